import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RedisClient } from '@app/redis';
import type { Pool } from 'pg';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { flushTestRedis, gql, scanKeys, testPool, testRedis, truncateStore } from '@app/testing';
import { createTestApiApp } from './create-test-app';
import { admin, TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env';
import { startTraining, waitForTraining } from './train-through-api';
import { activeKey, kindPattern, userKey, versionPattern } from '@app/embedding-store';
const QUICK = { epochs: 5, embeddingDim: 16, hidden: [32], batchSize: 50, patience: 0 };
const LONG = { ...QUICK, epochs: 40 };
const LOCK_MS = 3000;

/** The worker as its own process, as in production, so it can be SIGKILLed. */
function startWorker(port: number): ChildProcess {
  return spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '..', 'apps/jobs/src/main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      JOBS_PORT: String(port),
      TRAINING_LOCK_MS: String(LOCK_MS),
      TRAIN_THREADS: '1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

describe('a worker killed mid-training (e2e)', () => {
  let api: NestFastifyApplication;
  let db: Pool;
  let redis: RedisClient;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    db = testPool(TEST_DATABASE_URL);
    redis = testRedis(TEST_REDIS_URL);
    await truncateStore(db);
    await flushTestRedis(redis);
    await importSynthetic(
      { url: TEST_DATABASE_URL },
      generateSynthetic({ users: 500, items: 200, seed: 5, perUser: 20 }),
    );
    api = await createTestApiApp();
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await api.close();
    await db.end();
    redis.disconnect();
  });

  const job = async (id: string) =>
    (
      await gql(
        api,
        `query J($id: ID!) { trainingJob(id: $id) { state error progress { phase epoch } modelVersion { version status } } }`,
        { id },
        admin,
      )
    ).data!.trainingJob;
  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, seconds = 120): Promise<T> {
    for (let i = 0; i < seconds * 5; i++) {
      const found = await probe();
      if (found !== undefined) return found;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const snapshotOf = async (version: number) => (await scanKeys(redis, versionPattern(version))).sort();

  it('leaves the active version alone, and a fresh worker finishes the job with no orphaned keys', async () => {
    workers.push(startWorker(3911));
    const firstJob = await startTraining(api, QUICK);
    const { version: first } = await waitForTraining(api, firstJob);
    const activeKeys = await snapshotOf(first);
    expect(activeKeys.length).toBeGreaterThan(500);

    const longJob = await startTraining(api, LONG);
    await waitFor('training to be under way', async () =>
      (await job(longJob)).progress?.epoch >= 2 ? true : undefined,
    );
    const killed = workers[0];
    killed.kill('SIGKILL');
    await once(killed, 'exit');
    const { version: killedVersion } = (await job(longJob)).modelVersion;
    // as if the kill had come in the middle of publishing
    await redis.hset(userKey(killedVersion, 'half-written'), 'vec', Buffer.alloc(64));

    expect(await redis.get(activeKey())).toBe(String(first));
    expect(await snapshotOf(first)).toEqual(activeKeys);

    workers.push(startWorker(3912));
    const done = await waitFor('the job to end', async () => {
      const j = await job(longJob);
      return j.state === 'COMPLETED' || j.state === 'FAILED' ? j : undefined;
    });
    expect(done.state).toBe('COMPLETED');
    expect(done.modelVersion.version).toBe(killedVersion);
    expect(await redis.exists(userKey(killedVersion, 'half-written'))).toBe(0);
    expect(await scanKeys(redis, kindPattern(killedVersion, 'user'))).toHaveLength(500);
    // the first version is kept for rollback, untouched
    expect(await snapshotOf(first)).toEqual(activeKeys);
  });
});
