import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import request from 'supertest';
import { createDataSource, OwedStaleFlagRepository } from '@app/database';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { CuttableProxy, DisposableRedis, gql, testPool, truncateStore } from '@app/testing';
import { StaleFlagsService } from '../apps/api/src/interactions/stale-flags.service';
import { LiveModelService } from '../apps/api/src/recommendations/live-model.service';
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
  let env: Record<string, string>;

  /** Asks until the user's answer is a fold-in (or 10 s pass); returns the last source. */
  const foldedIn = async (userId: string) => {
    let source = '';
    for (let i = 0; i < 100 && source !== 'FOLD_IN'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      source = (await gql(api, RECS, { u: userId })).data?.recommendations.source;
    }
    return source;
  };
  const owedUsers = async () =>
    (await db.query('SELECT user_id FROM stale_flags_owed ORDER BY user_id')).rows.map((r) => r.user_id);
  /** The owed users once none are left (or 5 s pass): a payment sets the flag, then forgets the debt. */
  const owedUsersAfterPayment = async () => {
    let owed = await owedUsers();
    for (let i = 0; i < 50 && owed.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      owed = await owedUsers();
    }
    return owed;
  };

  beforeAll(async () => {
    db = testPool(TEST_DATABASE_URL);
    await truncateStore(db);
    await importSynthetic(
      { url: TEST_DATABASE_URL },
      generateSynthetic({ users: 200, items: 120, seed: 8, perUser: 15 }),
    );
    // a Redis and a road to Postgres of this test's own, so cutting them disturbs nothing else
    redis = await DisposableRedis.start();
    redisRoad = await CuttableProxy.start(redis.port);
    postgres = await CuttableProxy.start(Number(new URL(TEST_DATABASE_URL).port || 5432));
    const proxied = new URL(TEST_DATABASE_URL);
    proxied.port = String(postgres.port);
    env = { REDIS_URL: `redis://127.0.0.1:${redisRoad.port}`, DATABASE_URL: proxied.toString() };
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

  it('serves cached embeddings while Postgres is unreachable, still leaving out what the user saw', async () => {
    const seen = (
      await db.query(
        `SELECT i.external_id AS id FROM interactions x JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id WHERE u.external_id = 'u1'`,
      )
    ).rows.map((r) => r.id);
    postgres.sever();
    try {
      const res = await gql(api, RECS, { u: 'u1' });
      expect(res.errors).toBeUndefined();
      expect(res.data!.recommendations.source).toBe('EMBEDDING');
      expect(res.data!.recommendations.items).toHaveLength(5);
      // deeper than the cached list: decoded, and the seen items come from the cached embedding's own
      const deep = (await gql(api, `{ recommendations(userId: "u1", limit: 150) { source items { item { id } } } }`))
        .data!.recommendations;
      expect(deep.source).toBe('EMBEDDING');
      const ids = deep.items.map((i: any) => i.item.id);
      expect(ids.length).toBeGreaterThan(100);
      expect(ids.filter((id: string) => seen.includes(id))).toEqual([]);
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
    expect(await foldedIn('u4')).toBe('FOLD_IN');
    expect(await owedUsersAfterPayment()).toEqual([]);
  });

  it('keeps a flag owed across a restart of the API: the next process sets it', async () => {
    expect((await gql(api, RECS, { u: 'u6' })).data!.recommendations.source).toBe('EMBEDDING');
    redisRoad.sever();
    try {
      expect(
        (await gql(api, RECORD, { input: [{ userId: 'u6', itemId: 'i7', type: 'click' }] })).data!.recordInteractions
          .accepted,
      ).toBe(1);
    } finally {
      redisRoad.restore();
    }
    // the process that owed the flag stops before its retry (2 s after the failure) sets it
    await api.close();
    expect(await owedUsers()).toEqual(['u6']);
    api = await createTestApiApp(env);
    expect(await foldedIn('u6')).toBe('FOLD_IN');
    expect(await owedUsersAfterPayment()).toEqual([]);
  });

  it('is not ready after a restart until it serves the active model; from then on the model answers', async () => {
    await api.close();
    api = await createTestApiApp(env);
    let ready: request.Response | undefined;
    for (let i = 0; i < 100; i++) {
      ready = await request(api.getHttpServer()).get('/health/ready');
      if (ready.status === 200) break;
      // while loading: 503, and the answers meanwhile are popularity
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe('loading');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(ready!.body).toEqual({ status: 'ready', modelVersion: 1 });
    const res = await gql(api, RECS, { u: 'u1' });
    expect(res.data!.recommendations).toMatchObject({ source: 'EMBEDDING', modelVersion: 1 });
  });

  it('started while Redis was unreachable, serves the model from Postgres and learns its list depth once Redis is back', async () => {
    await api.close();
    redisRoad.sever();
    try {
      api = await createTestApiApp(env);
      const live = api.get(LiveModelService);
      for (let i = 0; i < 100 && !live.ready(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(live.current()).toMatchObject({ version: 1, topItems: null, similarItems: null });
    } finally {
      redisRoad.restore();
    }
    // what the pointer check does every 10 s, asked here until the client has reconnected
    const live = api.get(LiveModelService);
    for (let i = 0; i < 100 && live.current()?.topItems === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await live.refresh();
    }
    expect(live.current()).toMatchObject({ version: 1, topItems: 100, similarItems: 100 });
    expect((await gql(api, RECS, { u: 'u1' })).data!.recommendations.source).toBe('EMBEDDING');
  });

  it('owes the flags of a bulk import made while Redis was unreachable, and the API sets them', async () => {
    expect((await gql(api, RECS, { u: 'u8' })).data!.recommendations.source).toBe('EMBEDDING');
    const file = join(mkdtempSync(join(tmpdir(), 'recoder-import-')), 'more.csv');
    writeFileSync(file, 'user,item,weight,timestamp\nu8,i9,1,1700000000\n');
    redisRoad.sever();
    let out: string;
    try {
      // not execFileSync: the proxy that refuses the import's Redis connection runs in this process
      ({ stdout: out } = await promisify(execFile)(
        process.execPath,
        ['-r', '@swc-node/register', join(__dirname, '..', 'scripts/import.ts'), '--format', 'csv', '--file', file],
        {
          env: { ...process.env, ...env, DATABASE_URL: TEST_DATABASE_URL },
        },
      ));
    } finally {
      redisRoad.restore();
    }
    expect(JSON.parse(out.trim().split('\n').pop()!)).toMatchObject({ inserted: 1, stale_flags_owed: 1 });
    expect(await owedUsers()).toEqual(['u8']);
    // what the API's sweep (every 30 s) does, once its Redis connection is back
    const flags = api.get(StaleFlagsService);
    for (
      let i = 0;
      i < 50 &&
      !(await flags.pay().then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    expect(await owedUsers()).toEqual([]);
    expect(await foldedIn('u8')).toBe('FOLD_IN');
  });

  it('settles only the debts it paid: a flag owed again meanwhile stays owed', async () => {
    const ds = createDataSource(TEST_DATABASE_URL);
    await ds.initialize();
    try {
      const owed = new OwedStaleFlagRepository(ds);
      await db.query('DELETE FROM stale_flags_owed');
      await owed.owe(['a', 'b', 'a']);
      const page = await owed.oldest(10);
      expect(page.userIds).toEqual(['a', 'b']);
      await owed.owe(['b']);
      await owed.settle(page);
      expect(await owedUsers()).toEqual(['b']);
      await owed.settle(await owed.oldest(10));
      expect(await owedUsers()).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('folds users in from Postgres while Redis is down, and still answers; similar items are compared without the precomputed lists', async () => {
    redisRoad.sever();
    const res = await gql(api, RECS, { u: 'u2' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.recommendations.source).toBe('FOLD_IN');
    expect(res.data!.recommendations.items).toHaveLength(5);
    // an item this process has not compared yet: its list would be read from Redis
    const similar = await gql(api, `{ similarItems(itemId: "i77", limit: 5) { source items { item { id } } } }`);
    expect(similar.errors).toBeUndefined();
    expect(similar.data!.similarItems.source).toBe('EMBEDDING');
    expect(similar.data!.similarItems.items).toHaveLength(5);
  });
});
