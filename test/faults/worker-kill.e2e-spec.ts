import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RedisClient } from '@app/redis';
import type { Pool } from 'pg';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { flushTestRedis, gql, scanKeys, testPool, testRedis, truncateStore } from '@app/testing';
import { createTestApiApp } from '../create-test-app';
import { admin, TEST_DATABASE_URL, TEST_REDIS_URL } from '../test-env';
import { startTraining, waitForTraining } from '../train-through-api';
import { AppProcess, startWorker } from './processes';
import { activeKey, kindPattern, metaKey, versionOfKey, versionsPattern } from '@app/embedding-store';

const USERS = 1500;
const QUICK = { epochs: 4, embeddingDim: 16, hidden: [32], batchSize: 100, patience: 0 };
const LOCK_MS = 3000;
const PHASES = ['load', 'train', 'publish', 'promote', 'done'] as const;
type Phase = (typeof PHASES)[number] | 'activated';

/** The worker as its own process, as in production, so it can be SIGKILLed. */
const worker = (port: number) => startWorker(port, { TRAINING_LOCK_MS: String(LOCK_MS) });

/** SIGKILL in each phase of a training, then a fresh worker: the lifecycle's invariants hold after each. */
describe('a worker SIGKILLed in each phase and restarted (faults)', () => {
  let api: NestFastifyApplication;
  let db: Pool;
  let redis: RedisClient;
  let running: AppProcess;
  let port = 3931;

  beforeAll(async () => {
    db = testPool(TEST_DATABASE_URL);
    redis = testRedis(TEST_REDIS_URL);
    await truncateStore(db);
    await flushTestRedis(redis);
    await importSynthetic(
      { url: TEST_DATABASE_URL },
      generateSynthetic({ users: USERS, items: 300, seed: 9, perUser: 15 }),
    );
    api = await createTestApiApp();
    running = worker(port++);
    await waitForTraining(api, await startTraining(api, QUICK), 120);
  });
  afterAll(async () => {
    await running.kill();
    await api.close();
    await db.end();
    redis.disconnect();
  });

  const JOB = `query J($id: ID!) { trainingJob(id: $id) { state progress { phase } modelVersion { version } } }`;
  const jobOf = async (id: string) => (await gql(api, JOB, { id }, admin)).data!.trainingJob;
  async function reached(id: string, phase: Phase): Promise<void> {
    for (let i = 0; i < 3000; i++) {
      const job = await jobOf(id);
      if (phase === 'activated') {
        const v = job.modelVersion?.version;
        if (
          v &&
          (await db.query(`SELECT 1 FROM model_versions WHERE version = $1 AND status = 'ACTIVE'`, [v])).rowCount
        )
          return;
      } else if (job.progress && PHASES.indexOf(job.progress.phase) >= PHASES.indexOf(phase)) return;
      if (job.state === 'COMPLETED') return; // too late to catch it there: the restart must still hold the invariants
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`training never reached ${phase}`);
  }

  it.each(['load', 'train', 'publish', 'promote', 'activated'] as Phase[])(
    'killed in %s: one ACTIVE version, served by the pointer, complete; no other unfinished keys',
    async (phase) => {
      const id = await startTraining(api, QUICK);
      await reached(id, phase);
      await running.kill();
      running = worker(port++);
      const { version } = await waitForTraining(api, id, 120);

      const active = (await db.query(`SELECT version FROM model_versions WHERE status = 'ACTIVE'`)).rows.map(
        (r) => r.version as number,
      );
      expect(active).toEqual([version]);
      expect(Number(await redis.get(activeKey()))).toBe(version);
      expect(await scanKeys(redis, kindPattern(version, 'user'))).toHaveLength(USERS);
      expect(await redis.exists(metaKey(version))).toBe(1);
      const complete = new Set(
        (await db.query(`SELECT version FROM model_versions WHERE status IN ('READY', 'ACTIVE')`)).rows.map(
          (r) => r.version as number,
        ),
      );
      const inRedis = new Set((await scanKeys(redis, versionsPattern())).map((k) => versionOfKey(k)!));
      expect([...inRedis].filter((v) => !complete.has(v))).toEqual([]);
    },
    180_000,
  );
});
