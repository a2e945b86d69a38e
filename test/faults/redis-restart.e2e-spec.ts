import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { DisposableRedis, gql, scanKeys, testPool, truncateStore } from '@app/testing';
import { createTestApiApp } from '../create-test-app';
import { admin, TEST_DATABASE_URL } from '../test-env';
import { startTraining, waitForTraining } from '../train-through-api';
import { AppProcess, gqlAt, startApiProcess, startWorker } from './processes';
import { activeKey, kindPattern, metaKey, versionOfKey, versionsPattern } from '@app/embedding-store';

const USERS = 3000;
const QUICK = { epochs: 3, embeddingDim: 16, hidden: [32], batchSize: 100, patience: 0 };
const RECS = `query R($u: ID!) { recommendations(userId: $u, limit: 5) { source modelVersion } }`;
const JOB = `query J($id: ID!) { trainingJob(id: $id) { state progress { phase } modelVersion { version } } }`;

/** Redis (of the test's own, persistent: a restart, not a wipe) stopped while a training publishes, then started again. */
describe('Redis stopped during a publish and restarted (faults)', () => {
  let server: DisposableRedis;
  let redis: Redis;
  let db: Pool;
  let api: NestFastifyApplication;
  let otherApi: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    server = await DisposableRedis.start({ persistent: true });
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    db = testPool(TEST_DATABASE_URL);
    await truncateStore(db);
    await importSynthetic(
      { url: TEST_DATABASE_URL },
      generateSynthetic({ users: USERS, items: 300, seed: 21, perUser: 15 }),
    );
    const env = { REDIS_URL: server.url };
    api = await createTestApiApp(env);
    otherApi = await startApiProcess(3941, env);
    // a short queue lock: a job whose lock lapsed while Redis was down is taken back soon
    worker = startWorker(3942, { ...env, TRAINING_LOCK_MS: '3000' });
    await waitForTraining(api, await startTraining(api, QUICK), 120);
  }, 180_000);
  afterAll(async () => {
    await worker?.kill();
    await otherApi?.kill();
    await api?.close();
    redis?.disconnect();
    await db?.end();
    await server?.dispose();
  });

  const servedBy = async (ask: () => Promise<{ data?: any }>, version: number) => {
    for (let i = 0; i < 200; i++) {
      if ((await ask()).data?.recommendations.modelVersion === version) return version;
      await new Promise((r) => setTimeout(r, 100));
    }
    return (await ask()).data?.recommendations.modelVersion;
  };

  it('after the restart: one ACTIVE version, served by every API process, its keys complete; no keys of an unfinished version', async () => {
    const id = await startTraining(api, QUICK);
    let candidate: number | undefined;
    for (let i = 0; i < 6000 && candidate === undefined; i++) {
      const job = (await gql(api, JOB, { id }, admin)).data!.trainingJob;
      if (job.state === 'COMPLETED') throw new Error('the training finished before its publish was caught');
      if (job.progress?.phase === 'publish') candidate = job.modelVersion.version;
      else await new Promise((r) => setTimeout(r, 10));
    }
    await server.stop({ graceful: true });
    // the version was being written when Redis went: not complete yet
    expect((await db.query('SELECT status FROM model_versions WHERE version = $1', [candidate])).rows[0].status).toBe(
      'TRAINING',
    );
    // meanwhile the API answers, from the model in memory and Postgres, never from a cached embedding
    await new Promise((r) => setTimeout(r, 1500));
    const during = await gql(api, RECS, { u: 'u3' });
    expect(during.errors).toBeUndefined();
    expect(during.data!.recommendations.source).not.toBe('EMBEDDING');
    await new Promise((r) => setTimeout(r, 1500));
    await server.start();

    // the job is retried to the end: the candidate is published completely, or another attempt's version is
    const { version } = await waitForTraining(api, id, 240);
    const active = (await db.query(`SELECT version, users, items FROM model_versions WHERE status = 'ACTIVE'`)).rows;
    expect(active.map((r) => r.version)).toEqual([version]);
    expect(Number(await redis.get(activeKey()))).toBe(version);
    expect(await servedBy(() => gql(api, RECS, { u: 'u3' }), version)).toBe(version);
    expect(await servedBy(() => gqlAt(otherApi, RECS, { u: 'u3' }), version)).toBe(version);

    expect(await scanKeys(redis, kindPattern(version, 'user'))).toHaveLength(active[0].users);
    expect(active[0].users).toBe(USERS);
    expect(await scanKeys(redis, kindPattern(version, 'item'))).toHaveLength(active[0].items);
    expect(await redis.exists(metaKey(version))).toBe(1);
    const complete = new Set(
      (await db.query(`SELECT version FROM model_versions WHERE status IN ('READY', 'ACTIVE')`)).rows.map(
        (r) => r.version as number,
      ),
    );
    const inRedis = new Set((await scanKeys(redis, versionsPattern())).map((k) => versionOfKey(k)!));
    expect([...inRedis].filter((v) => !complete.has(v))).toEqual([]);
  }, 300_000);
});
