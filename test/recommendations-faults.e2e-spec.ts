import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { CuttableProxy, DisposableRedis, gql, testPool, truncateStore } from '@app/testing';
import { createTestApiApp } from './create-test-app';
import { createTestJobsApp } from './create-test-jobs-app';
import { TEST_DATABASE_URL } from './test-env';
import { trainToCompletion } from './train-through-api';
const RECS = `query R($u: ID!) { recommendations(userId: $u, limit: 5) { source modelVersion items { item { id } } } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;

describe('recommendations when a store is down (e2e)', () => {
  let redis: DisposableRedis;
  let postgres: CuttableProxy;
  let redisRoad: CuttableProxy;
  let api: NestFastifyApplication;
  let db: Pool;

  beforeAll(async () => {
    db = testPool(TEST_DATABASE_URL);
    await truncateStore(db);
    await importSynthetic({ url: TEST_DATABASE_URL }, generateSynthetic({ users: 200, items: 120, seed: 8, perUser: 15 }));
    // a Redis and a road to Postgres of this test's own, so cutting them disturbs nothing else
    redis = await DisposableRedis.start();
    redisRoad = await CuttableProxy.start(redis.port);
    postgres = await CuttableProxy.start(Number(new URL(TEST_DATABASE_URL).port || 5432));
    const proxied = new URL(TEST_DATABASE_URL);
    proxied.port = String(postgres.port);
    const env = { REDIS_URL: `redis://127.0.0.1:${redisRoad.port}`, DATABASE_URL: proxied.toString() };
    const jobs = await createTestJobsApp(env);
    api = await createTestApiApp(env);
    await trainToCompletion(api, { epochs: 3, embeddingDim: 8, hidden: [16] });
    await jobs.close();
    for (let i = 0; i < 50 && (await gql(api, RECS, { u: 'u1' })).data!.recommendations.source !== 'EMBEDDING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await api.close();
    await redis.stop();
    await redisRoad.close();
    await postgres.close();
    await db.end();
  });

  it('serves cached embeddings while Postgres is unreachable', async () => {
    postgres.sever();
    try {
      const res = await gql(api, RECS, { u: 'u1' });
      expect(res.errors).toBeUndefined();
      expect(res.data!.recommendations.source).toBe('EMBEDDING');
      expect(res.data!.recommendations.items).toHaveLength(5);
    } finally {
      postgres.restore();
    }
  });

  it('flags a user who interacted while Redis was unreachable once it is back, so their next answer folds them in', async () => {
    expect((await gql(api, RECS, { u: 'u4' })).data!.recommendations.source).toBe('EMBEDDING');
    redisRoad.sever();
    try {
      const recorded = await gql(api, RECORD, { input: [{ userId: 'u4', itemId: 'i5', type: 'click' }] });
      expect(recorded.data!.recordInteractions.accepted).toBe(1);
    } finally {
      redisRoad.restore();
    }
    // the flag is owed, and set on a retry (every 2 s) once Redis answers again
    let source = '';
    for (let i = 0; i < 100 && source !== 'FOLD_IN'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      source = (await gql(api, RECS, { u: 'u4' })).data?.recommendations.source;
    }
    expect(source).toBe('FOLD_IN');
  });

  it('folds users in from Postgres while Redis is down, and still answers', async () => {
    redisRoad.sever();
    const res = await gql(api, RECS, { u: 'u2' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.recommendations.source).toBe('FOLD_IN');
    expect(res.data!.recommendations.items).toHaveLength(5);
  });
});
