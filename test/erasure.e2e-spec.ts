import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { resetEnvCache } from '@app/config';
import { exportDirName } from '@app/export';
import { generateSynthetic, syntheticUserId } from '@app/synthetic';
import {
  CuttableProxy,
  DisposableRedis,
  firstErrorCode,
  gql,
  ownKeys,
  scanKeys,
  testPool,
  testRedis,
  truncateStore,
} from '@app/testing';
import { importSynthetic } from '@app/ingest';
import { createTestApiApp } from './create-test-app';
import { createTestJobsApp } from './create-test-jobs-app';
import { admin, TEST_DATABASE_URL, TEST_EXPORT_DIR, TEST_REDIS_CLUSTER_NODES, TEST_REDIS_URL } from './test-env';
import { TestStack } from './test-stack';
import { startTraining, trainToCompletion, waitForServedVersion, waitForTraining } from './train-through-api';
import {
  feedbackKey,
  idOfKey,
  keyPrefix,
  kindPattern,
  metaKey,
  userKey,
  versionOfKey,
  versionsPattern,
} from '@app/embedding-store';

const QUICK = { epochs: 3, embeddingDim: 8, hidden: [16], batchSize: 50, patience: 0 };
const USERS = 200;
const DELETE_USER = `mutation D($id: ID!) { deleteUser(id: $id) { found redisKeys earlierExports } }`;
const EXPORT = `mutation E($format: ExportFormat!) { exportEmbeddings(kind: USER, format: $format) { id } }`;
const EXPORT_JOB = `query J($id: ID!) { exportJob(id: $id) { state error count } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const RECS_ID = `query R($id: ID!) { recommendations(userId: $id, limit: 3) { recommendationId items { item { id } } } }`;
const REPORT = `mutation I($rid: String!, $items: [ID!]!) { reportImpressions(recommendationId: $rid, itemIds: $items) { accepted } }`;
/** Every read path that answers about one user. */
const READS = `query Q($id: ID!, $v: Int) {
  recommendations(userId: $id, limit: 5) { source items { score } }
  userEmbedding(userId: $id) { vector }
  embeddings(kind: USER, ids: [$id], version: $v) { missing vectors { id } }
  embeddingMap(kind: USER, ids: [$id], version: $v) { missing points { id } }
  userAnomaly(userId: $id) { score }
  anomalousUsers(limit: 1000) { userId }
  user(id: $id) { id interactionCount interactions(limit: 5) { items { itemId } } }
}`;

describe('erasing a user (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;

  // export job ids start again with each test file's fresh Redis: no other file's export may answer for ours, nor ours for theirs
  const clearExports = () => rm(TEST_EXPORT_DIR, { recursive: true, force: true });

  beforeAll(async () => {
    await clearExports();
    stack = await TestStack.start({ data: generateSynthetic({ users: USERS, items: 80, seed: 29, perUser: 15 }) });
    api = stack.api;
  });
  afterAll(async () => {
    await stack.close();
    await clearExports();
  });

  /** Every Redis key that names the user, in any version (and anything else recoder wrote). */
  const keysOf = async (id: string) =>
    (await scanKeys(stack.redis, `${keyPrefix()}:*`)).filter((k) => idOfKey(k) === id && k.includes(':user:'));
  const versionsInRedis = async () =>
    new Set((await scanKeys(stack.redis, `${versionsPattern()}:meta`)).map((k) => versionOfKey(k)!));
  const rowsOf = async (table: string, column: string, id: string) =>
    (await stack.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [id])).rows[0].n as number;

  async function exported(format: 'NPY' | 'NDJSON'): Promise<string> {
    const { id } = (await gql(api, EXPORT, { format }, admin)).data!.exportEmbeddings;
    for (;;) {
      const job = (await gql(api, EXPORT_JOB, { id }, admin)).data!.exportJob;
      if (job.state === 'COMPLETED') return id;
      if (job.state === 'FAILED') throw new Error(job.error);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const impressionsOf = async (id: string) =>
    (
      await stack.db.query(
        `SELECT count(*)::int AS n FROM impressions x JOIN users u ON u.id = x.user_id WHERE u.external_id = $1`,
        [id],
      )
    ).rows[0].n as number;
  /** Shows the user their answer's items, and waits until the impressions are stored. */
  async function shown(id: string): Promise<void> {
    const answer = (await gql(api, RECS_ID, { id })).data!.recommendations;
    const ids = answer.items.map((i: { item: { id: string } }) => i.item.id);
    const res = await gql(api, REPORT, { rid: answer.recommendationId, items: ids });
    expect(res.data!.reportImpressions.accepted).toBe(ids.length);
    for (let i = 0; i < 200 && (await impressionsOf(id)) < ids.length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await impressionsOf(id)).toBe(ids.length);
  }

  async function readsOf(id: string, version: number) {
    const res = await gql(api, READS, { id, v: version }, admin);
    expect(res.errors).toBeUndefined();
    return res.data!;
  }

  it('reaches every retained version, anomaly scores and owed flags; every read path answers nothing or POPULARITY', async () => {
    const victim = syntheticUserId(3);
    const bystander = syntheticUserId(4);
    const { version: older } = await trainToCompletion(api, QUICK);
    const { version: live } = await trainToCompletion(api, { ...QUICK, seed: 2 });
    expect(await versionsInRedis()).toEqual(new Set([older, live]));
    await waitForServedVersion(api, live);
    // an interaction since training: the user is stale, folded in, written back; a flag owed too
    await gql(api, RECORD, { input: [{ userId: victim, itemId: 'i1', occurredAt: new Date().toISOString() }] });
    expect((await readsOf(victim, live)).recommendations.source).toBe('FOLD_IN');
    await stack.db.query(`INSERT INTO stale_flags_owed (user_id) VALUES ($1), ($2)`, [victim, bystander]);
    expect((await keysOf(victim)).sort()).toEqual([userKey(older, victim), userKey(live, victim)]);
    // and their feedback state (what their negative events hide), written back by that answer
    expect(await stack.redis.hget(feedbackKey(victim), 'neg')).toBe('[]');
    expect(await rowsOf('user_anomalies', 'user_id', victim)).toBe(2);
    await shown(victim);
    await shown(bystander);
    const victimKey = (await stack.db.query(`SELECT id FROM users WHERE external_id = $1`, [victim])).rows[0]
      .id as number;
    const before = await exported('NPY');

    const res = await gql(api, DELETE_USER, { id: victim }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data!.deleteUser).toMatchObject({ found: true, redisKeys: 3 });
    // a file written before the deletion holds the user: the answer names its export
    expect(res.data!.deleteUser.earlierExports).toContain(before);
    expect(await readFile(join(TEST_EXPORT_DIR, exportDirName(before), 'ids.txt'), 'utf8')).toContain(`${victim}\n`);

    expect(await keysOf(victim)).toEqual([]);
    // nor any key naming them: the mark that holds off fold-ins is named by a keyed hash
    const naming = async () =>
      (await ownKeys(stack.redis)).filter((k) => k.split(':').includes(victim) || k.includes(`{${victim}}`));
    expect(await naming()).toEqual([]);
    for (const [table, column] of [
      ['user_anomalies', 'user_id'],
      ['stale_flags_owed', 'user_id'],
      ['users', 'external_id'],
    ]) {
      expect(await rowsOf(table, column, victim)).toBe(0);
    }
    // by the user's internal id: the join through users would find nothing either way
    expect(
      (await stack.db.query(`SELECT count(*)::int AS n FROM impressions WHERE user_id = $1`, [victimKey])).rows[0].n,
    ).toBe(0);
    // nobody else lost anything
    expect(await impressionsOf(bystander)).toBe(3);
    expect(await keysOf(bystander)).toHaveLength(2);
    expect(await rowsOf('stale_flags_owed', 'user_id', bystander)).toBe(1);
    expect(await rowsOf('user_anomalies', 'user_id', bystander)).toBe(2);
    // the log keeps a keyed hash only
    const log = (await stack.db.query(`SELECT id_hash FROM erasure_log`)).rows as { id_hash: Buffer }[];
    expect(log).toHaveLength(1);
    expect(log[0].id_hash.includes(Buffer.from(victim))).toBe(false);

    for (const version of [live, older]) {
      const reads = await readsOf(victim, version);
      expect(reads.recommendations.source).toBe('POPULARITY');
      expect(reads.userEmbedding).toBeNull();
      expect(reads.embeddings).toEqual({ missing: [victim], vectors: [] });
      expect(reads.embeddingMap).toEqual({ missing: [victim], points: [] });
      expect(reads.userAnomaly).toBeNull();
      expect(reads.anomalousUsers.map((a: { userId: string }) => a.userId)).not.toContain(victim);
      expect(reads.user).toBeNull();
    }
    // asking wrote nothing back, not even their (empty) feedback state
    expect(await keysOf(victim)).toEqual([]);
    expect(await naming()).toEqual([]);

    // an export started afterwards leaves the user out
    const after = await exported('NDJSON');
    expect((await gql(api, EXPORT_JOB, { id: after }, admin)).data!.exportJob.count).toBe(USERS - 1);
    const lines = (await readFile(join(TEST_EXPORT_DIR, exportDirName(after), 'vectors.ndjson'), 'utf8'))
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).not.toContain(victim);
    expect(lines.map((l) => JSON.parse(l).id)).toContain(bystander);

    // erasing again finds nothing left, and says so
    expect((await gql(api, DELETE_USER, { id: victim }, admin)).data!.deleteUser).toMatchObject({
      found: false,
      redisKeys: 0,
    });
  });

  it('a training that read its data before the deletion does not publish the user', async () => {
    await stack.reset(generateSynthetic({ users: USERS, items: 80, seed: 31, perUser: 15 }));
    const victim = syntheticUserId(7);
    const job = await startTraining(api, { ...QUICK, epochs: 400 });
    const PROGRESS = `query J($id: ID!) { trainingJob(id: $id) { progress { phase epoch } } }`;
    const progress = async () => (await gql(api, PROGRESS, { id: job }, admin)).data!.trainingJob.progress;
    for (let i = 0; i < 600 && !((await progress())?.epoch >= 1); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await gql(api, DELETE_USER, { id: victim }, admin)).data!.deleteUser).toMatchObject({
      found: true,
      redisKeys: 0,
    });
    // the deletion came while the model trained: past loading, before publishing
    expect((await progress()).phase).toBe('train');

    const { version } = await waitForTraining(api, job);
    await waitForServedVersion(api, version);
    const row = (await stack.db.query(`SELECT users FROM model_versions WHERE version = $1`, [version])).rows[0];
    expect(row.users).toBe(USERS); // it trained on a snapshot that held the user
    expect(await scanKeys(stack.redis, kindPattern(version, 'user'))).toHaveLength(USERS - 1);
    expect(await keysOf(victim)).toEqual([]);
    expect(await rowsOf('user_anomalies', 'user_id', victim)).toBe(0);
    expect(await stack.redis.hget(metaKey(version), 'users')).toBe(String(USERS - 1));
    const reads = await readsOf(victim, version);
    expect(reads.recommendations.source).toBe('POPULARITY');
    expect(reads.userEmbedding).toBeNull();
    expect(reads.embeddings.missing).toEqual([victim]);
    expect(reads.embeddingMap.missing).toEqual([victim]);
    expect(reads.userAnomaly).toBeNull();
    expect(reads.anomalousUsers.map((a: { userId: string }) => a.userId)).not.toContain(victim);
    // everyone else was published
    expect(await keysOf(syntheticUserId(8))).toEqual([userKey(version, syntheticUserId(8))]);
  });
});

describe('erasing a user while Redis is unreachable (e2e)', () => {
  let redis: DisposableRedis;
  let road: CuttableProxy;
  let api: NestFastifyApplication;
  const db = testPool(TEST_DATABASE_URL);

  beforeAll(async () => {
    await truncateStore(db);
    await importSynthetic(
      { url: TEST_DATABASE_URL },
      generateSynthetic({ users: 100, items: 60, seed: 37, perUser: 12 }),
    );
    // a Redis of this test's own behind a road it can cut, so cutting it disturbs nothing else (one
    // Redis, also in the cluster run: a road to a cluster's node cannot stand for the whole cluster)
    delete process.env.REDIS_CLUSTER_NODES;
    redis = await DisposableRedis.start();
    road = await CuttableProxy.start(redis.port);
    const env = { REDIS_URL: `redis://127.0.0.1:${road.port}` };
    const jobs = await createTestJobsApp(env);
    api = await createTestApiApp(env);
    await trainToCompletion(api, QUICK);
    await jobs.close();
  });
  afterAll(async () => {
    await api.close();
    await road.close();
    await redis.stop();
    await db.end();
    process.env.REDIS_URL = TEST_REDIS_URL;
    if (TEST_REDIS_CLUSTER_NODES) process.env.REDIS_CLUSTER_NODES = TEST_REDIS_CLUSTER_NODES;
    resetEnvCache();
  });

  it('answers SERVICE_UNAVAILABLE having erased nothing, and a call once Redis is back erases everything', async () => {
    const victim = syntheticUserId(2);
    const direct = testRedis(redis.url);
    const hashes = async () => (await scanKeys(direct, `${versionsPattern()}:user:{${victim}}`)).length;
    expect(await hashes()).toBe(1);
    road.sever();
    try {
      const res = await gql(api, DELETE_USER, { id: victim }, admin);
      expect(firstErrorCode(res)).toBe('SERVICE_UNAVAILABLE');
    } finally {
      road.restore();
    }
    // all or nothing: the user is still whole, in Postgres as in Redis
    expect((await db.query(`SELECT 1 FROM users WHERE external_id = $1`, [victim])).rowCount).toBe(1);
    expect(await hashes()).toBe(1);
    // once the API has its connection back
    for (let i = 0; i < 100 && (await request(api.getHttpServer()).get('/health')).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await gql(api, DELETE_USER, { id: victim }, admin);
    expect(res.data!.deleteUser).toMatchObject({ found: true, redisKeys: 1 });
    expect(await hashes()).toBe(0);
    direct.disconnect();
  });
});
