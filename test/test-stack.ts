import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RedisClient } from '@app/redis';
import type { Pool } from 'pg';
import { importSynthetic } from '@app/ingest';
import type { SyntheticInteractions } from '@app/synthetic';
import { flushTestRedis, testPool, testRedis, truncateStore } from '@app/testing';
import { createTestApiApp } from './create-test-app';
import { createTestJobsApp } from './create-test-jobs-app';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env';

/** The API and (optionally) the worker on the test database and Redis db, with direct clients to both stores. */
export class TestStack {
  private constructor(
    readonly api: NestFastifyApplication,
    readonly jobs: NestFastifyApplication | null,
    readonly db: Pool,
    readonly redis: RedisClient,
  ) {}

  /** Stores are reset (and `data` loaded) before the apps start, so no app sees a previous test's model. */
  static async start({
    worker = true,
    data,
  }: { worker?: boolean; data?: SyntheticInteractions } = {}): Promise<TestStack> {
    const db = testPool(TEST_DATABASE_URL);
    const redis = testRedis(TEST_REDIS_URL);
    await resetStores(db, redis, data);
    const api = await createTestApiApp();
    const jobs = worker ? await createTestJobsApp() : null;
    return new TestStack(api, jobs, db, redis);
  }

  /** Empties both stores (the tests' own database and db index), then loads `data` if given. */
  reset(data?: SyntheticInteractions): Promise<void> {
    return resetStores(this.db, this.redis, data);
  }

  async close(): Promise<void> {
    await this.jobs?.close();
    await this.api.close();
    await this.db.end();
    this.redis.disconnect();
  }
}

async function resetStores(db: Pool, redis: RedisClient, data?: SyntheticInteractions): Promise<void> {
  await truncateStore(db);
  await flushTestRedis(redis);
  if (data) await importSynthetic({ url: TEST_DATABASE_URL }, data);
}
