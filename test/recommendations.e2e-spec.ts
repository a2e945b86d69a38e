import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RedisClient } from '@app/redis';
import request from 'supertest';
import type { Pool } from 'pg';
import { resetEnvCache } from '@app/config';
import { decodeTopItems, encodeTopItems, itemKey, metaKey, userKey } from '@app/embedding-store';
import { deserializeModel, initBackend } from '@app/model';
import { generateSynthetic } from '@app/synthetic';
import { firstErrorCode, gql } from '@app/testing';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env';
import { TestStack } from './test-stack';
import { createTestApiApp } from './create-test-app';
import { trainToCompletion } from './train-through-api';

const CONFIG = { epochs: 15, embeddingDim: 24, hidden: [64], seed: 3, patience: 0, batchSize: 50, learningRate: 3e-3 };
const RECS = `query R($u: ID!, $limit: Int, $excludeSeen: Boolean, $filter: ItemFilter) {
  recommendations(userId: $u, limit: $limit, excludeSeen: $excludeSeen, filter: $filter) { source modelVersion items { score item { id attributes } } } }`;

describe('recommendations (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let db: Pool;
  let redis: RedisClient;
  const data = generateSynthetic({ users: 400, items: 250, seed: 21, perUser: 25, clusters: 8 });

  const train = async () => (await trainToCompletion(api, CONFIG)).version;
  const servedVersion = async (app = api) =>
    (await gql(app, RECS, { u: 'u1', limit: 1 })).data!.recommendations.modelVersion;
  async function waitServing(version: number, app = api) {
    for (let i = 0; i < 100 && (await servedVersion(app)) !== version; i++)
      await new Promise((r) => setTimeout(r, 100));
  }
  const seenBy = async (user: string) =>
    (
      await db.query(
        `SELECT i.external_id AS id FROM interactions x JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id WHERE u.external_id = $1`,
        [user],
      )
    ).rows.map((r) => r.id as string);

  beforeAll(async () => {
    stack = await TestStack.start({ data });
    ({ api, db, redis } = stack);
  });
  afterAll(() => stack.close());

  it('answers with popularity before any model exists, and for a user it has never seen', async () => {
    // nothing to load: ready (once the first look for a model is done), and the answers are popularity by design
    let ready = await request(api.getHttpServer()).get('/health/ready');
    for (let i = 0; i < 50 && ready.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await request(api.getHttpServer()).get('/health/ready');
    }
    expect(ready.body).toEqual({ status: 'ready', modelVersion: null });
    const res = await gql(api, RECS, { u: 'u1', limit: 5 });
    expect(res.data!.recommendations).toMatchObject({ source: 'POPULARITY', modelVersion: null });
    expect(res.data!.recommendations.items).toHaveLength(5);
    const seen = new Set(await seenBy('u1'));
    expect(res.data!.recommendations.items.every((i: any) => !seen.has(i.item.id))).toBe(true);
    // no training has counted yet: the counts are the interactions' own
    const counted = (
      await db.query(
        `SELECT i.external_id AS id, count(*)::float8 AS n FROM interactions x JOIN items i ON i.id = x.item_id GROUP BY i.external_id`,
      )
    ).rows;
    const live = new Map(counted.map((r) => [r.id as string, r.n as number]));
    const scores = res.data!.recommendations.items.map((i: any) => i.score);
    expect(res.data!.recommendations.items.map((i: any) => live.get(i.item.id))).toEqual(scores);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    await waitServing(await train());
    const stranger = await gql(api, RECS, { u: 'never-seen', limit: 5 });
    expect(stranger.data!.recommendations.source).toBe('POPULARITY');
  });

  it("ranks cold-start answers by the last training's counts, read from the table it wrote, not counted again per refresh", async () => {
    const stored = (
      await db.query(
        `SELECT i.external_id AS id, p.interactions AS n FROM item_popularity p JOIN items i ON i.id = p.item_id`,
      )
    ).rows;
    const counted = (
      await db.query(
        `SELECT i.external_id AS id, count(*)::float8 AS n FROM interactions x JOIN items i ON i.id = x.item_id GROUP BY i.external_id`,
      )
    ).rows;
    const byId = (rows: { id: string; n: number }[]) => new Map(rows.map((r) => [r.id, r.n]));
    expect(byId(stored)).toEqual(byId(counted));
    // what the table says is what cold start answers, once the catalogue reloads
    const last = counted.reduce((a, b) => (b.n < a.n ? b : a)).id as string;
    await db.query(
      `UPDATE item_popularity SET interactions = 1e6 WHERE item_id = (SELECT id FROM items WHERE external_id = $1)`,
      [last],
    );
    try {
      const UPSERT = `mutation U($input: [ItemInput!]!) { upsertItems(input: $input) { id } }`;
      expect((await gql(api, UPSERT, { input: [{ id: last }] })).errors).toBeUndefined();
      const stranger = (await gql(api, RECS, { u: 'never-seen', limit: 3 })).data!.recommendations;
      expect(stranger.items[0]).toMatchObject({ item: { id: last }, score: 1e6 });
    } finally {
      await db.query(
        `UPDATE item_popularity p SET interactions = c.n FROM (SELECT item_id, count(*) AS n FROM interactions GROUP BY item_id) c WHERE c.item_id = p.item_id`,
      );
    }
  });

  /**
   * The user's unseen items (every item with keepSeen) by the model's score for their published
   * embedding: a full decode plus the item term over the user's items, and a full sort.
   */
  async function reference(
    user: string,
    keepSeen = false,
  ): Promise<{ version: number; ranked: { id: string; score: number }[] }> {
    const version = (await gql(api, RECS, { u: user, limit: 1 })).data!.recommendations.modelVersion;
    await initBackend();
    const { rows } = await db.query(`SELECT data FROM model_weight_chunks WHERE version = $1 ORDER BY seq`, [version]);
    const { model, itemIds } = deserializeModel(Buffer.concat(rows.map((r) => r.data)));
    // the served model carries the item term: the synthetic data's validation users chose it
    expect(model.itemTerm).not.toBeNull();
    const blob = await redis.hgetBuffer(userKey(version, user), 'vec');
    const seen = new Set(await seenBy(user));
    const history = itemIds.flatMap((id, i) => (seen.has(id) ? [i] : []));
    const scores = model.decode(new Float32Array(Uint8Array.from(blob!).buffer), 1, undefined, 'users', [history]);
    model.dispose();
    const ranked = itemIds
      .map((id, i) => ({ id, score: scores[i] }))
      .filter((x) => keepSeen || !seen.has(x.id))
      .sort((a, b) => b.score - a.score);
    return { version, ranked };
  }

  it('matches a brute-force reference (full decode, full sort, seen items excluded) from the precomputed top items and from a decode', async () => {
    const { version, ranked } = await reference('u7');
    // the training job ranked the user's 100 best unseen items into Redis: 20 come from there
    expect((await redis.hgetBuffer(userKey(version, 'u7'), 'top'))!.length).toBe(100 * 8);
    // 150 is more than were precomputed: the API decodes the embedding
    for (const limit of [20, 150]) {
      const recs = (await gql(api, RECS, { u: 'u7', limit })).data!.recommendations;
      expect(recs.source).toBe('EMBEDDING');
      expect(recs.items.map((i: any) => i.item.id)).toEqual(ranked.slice(0, limit).map((x) => x.id));
      recs.items.forEach((item: any, k: number) => expect(item.score).toBeCloseTo(ranked[k].score, 4));
    }
  });

  it('keeps seen items in when asked (excludeSeen: false): the full ranking from the cached embedding, and a fold-in once the user acts', async () => {
    const { ranked } = await reference('u13', true);
    const seen = new Set(await seenBy('u13'));
    const recs = (await gql(api, RECS, { u: 'u13', limit: 30, excludeSeen: false })).data!.recommendations;
    expect(recs.source).toBe('EMBEDDING');
    expect(recs.items.map((i: any) => i.item.id)).toEqual(ranked.slice(0, 30).map((x) => x.id));
    recs.items.forEach((item: any, k: number) => expect(item.score).toBeCloseTo(ranked[k].score, 4));
    // an autoencoder reconstructs what it was given: the user's own items are among the best
    expect(recs.items.filter((i: any) => seen.has(i.item.id)).length).toBeGreaterThan(0);
    // what the user does now makes this answer a fold-in too, with the new item in it
    const picked = ranked.find((x) => !seen.has(x.id))!.id;
    await gql(api, `mutation { recordInteractions(input: [{ userId: "u13", itemId: "${picked}" }]) { accepted } }`);
    const after = (await gql(api, RECS, { u: 'u13', limit: 30, excludeSeen: false })).data!.recommendations;
    expect(after.source).toBe('FOLD_IN');
    expect(after.items.map((i: any) => i.item.id)).toContain(picked);
    expect(after.items.map((i: any) => i.score)).not.toEqual(recs.items.map((i: any) => i.score));
    // the fold-in cached its ranking of the unseen items too: both kinds of answer come from it now
    const { version, ranked: now } = await reference('u13', true);
    for (let i = 0; i < 50 && (await redis.hexists(userKey(version, 'u13'), 'stale')); i++)
      await new Promise((r) => setTimeout(r, 50));
    const top = (await redis.hgetBuffer(userKey(version, 'u13'), 'top'))!;
    expect(top.length).toBe(100 * 8);
    const seenNow = new Set([...seen, picked]);
    const unseenNow = now.filter((x) => !seenNow.has(x.id));
    for (const [excludeSeen, want] of [
      [false, now],
      [true, unseenNow],
    ] as const) {
      const again = (await gql(api, RECS, { u: 'u13', limit: 30, excludeSeen })).data!.recommendations;
      expect(again.source).toBe('EMBEDDING');
      expect(again.items.map((i: any) => i.item.id)).toEqual(want.slice(0, 30).map((x) => x.id));
    }
    expect(after.items.map((i: any) => i.item.id)).toEqual(now.slice(0, 30).map((x) => x.id));
  });

  it('knows a published top list was cut at the depth the job ranked it to, whatever the API itself is configured with', async () => {
    const { version, ranked } = await reference('u9');
    expect(await redis.hget(metaKey(version), 'topItems')).toBe('100');
    // an API configured for deeper lists than this version was published with: 100 of its 200
    // would look like a user with only 100 unseen items, and a filter skipping 90 of them would
    // then end the answer at 10
    const configured = process.env.CACHED_TOP_ITEMS;
    const deeper = await createTestApiApp({ CACHED_TOP_ITEMS: '200' });
    try {
      const excludeIds = ranked.slice(0, 90).map((x) => x.id);
      await waitServing(version, deeper);
      const recs = (await gql(deeper, RECS, { u: 'u9', limit: 20, filter: { excludeIds } })).data!.recommendations;
      expect(recs.source).toBe('EMBEDDING');
      expect(recs.items.map((i: any) => i.item.id)).toEqual(ranked.slice(90, 110).map((x) => x.id));
      // and the list a fold-in writes back keeps to the version's depth, so its length means the same
      await gql(
        deeper,
        `mutation { recordInteractions(input: [{ userId: "u9", itemId: "${ranked[0].id}" }]) { accepted } }`,
      );
      expect((await gql(deeper, RECS, { u: 'u9', limit: 5 })).data!.recommendations.source).toBe('FOLD_IN');
      // written through after the answer: the stale flag goes with it
      for (let i = 0; i < 50 && (await redis.hexists(userKey(version, 'u9'), 'stale')); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await redis.hgetBuffer(userKey(version, 'u9'), 'top'))!.length).toBe(100 * 8);
    } finally {
      await deeper.close();
      if (configured === undefined) delete process.env.CACHED_TOP_ITEMS;
      else process.env.CACHED_TOP_ITEMS = configured;
      resetEnvCache();
    }
  });

  it('folds in what a user just did, then serves the written-through embedding', async () => {
    const before = (await gql(api, RECS, { u: 'u3', limit: 10 })).data!.recommendations;
    expect(before.source).toBe('EMBEDDING');
    const picked = before.items.slice(0, 3).map((i: any) => i.item.id);
    const rec = await gql(
      api,
      `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`,
      {
        input: picked.map((itemId: string) => ({ userId: 'u3', itemId, type: 'purchase' })),
      },
    );
    expect(rec.data!.recordInteractions.accepted).toBe(3);
    const after = (await gql(api, RECS, { u: 'u3', limit: 10 })).data!.recommendations;
    expect(after.source).toBe('FOLD_IN');
    const ids = after.items.map((i: any) => i.item.id);
    expect(ids).not.toEqual(before.items.map((i: any) => i.item.id));
    for (const id of picked) expect(ids).not.toContain(id);
    const again = (await gql(api, RECS, { u: 'u3', limit: 10 })).data!.recommendations;
    expect(again.source).toBe('EMBEDDING');
    expect(again.items.map((i: any) => i.item.id)).toEqual(ids);
    // the fold-in wrote its top items through, best first, the new purchases left out
    const top = (await redis.hgetBuffer(userKey(after.modelVersion, 'u3'), 'top'))!;
    const firstTen = Array.from({ length: 10 }, (_, r) => top.readUInt32LE(r * 8));
    const { rows } = await db.query(`SELECT data FROM model_weight_chunks WHERE version = $1 ORDER BY seq`, [
      after.modelVersion,
    ]);
    const { itemIds } = deserializeModel(Buffer.concat(rows.map((r) => r.data)));
    expect(firstTen.map((i) => itemIds[i])).toEqual(ids);
  });

  it('folds in what a bulk import added: the import flags the users of its file', async () => {
    const before = (await gql(api, RECS, { u: 'u4', limit: 10 })).data!.recommendations;
    expect(before.source).toBe('EMBEDDING');
    const picked = before.items.slice(0, 2).map((i: any) => i.item.id as string);
    const file = join(mkdtempSync(join(tmpdir(), 'recoder-import-')), 'more.csv');
    writeFileSync(
      file,
      `user,item,weight,timestamp\n${picked.map((item: string) => `u4,${item},1,1700000000`).join('\n')}\n`,
    );
    const out = execFileSync(
      process.execPath,
      ['-r', '@swc-node/register', join(__dirname, '..', 'scripts/import.ts'), '--format', 'csv', '--file', file],
      {
        env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL },
      },
    );
    expect(JSON.parse(out.toString().trim().split('\n').pop()!)).toMatchObject({ inserted: 2, users_flagged_stale: 1 });
    const after = (await gql(api, RECS, { u: 'u4', limit: 10 })).data!.recommendations;
    expect(after.source).toBe('FOLD_IN');
    for (const id of picked) expect(after.items.map((i: any) => i.item.id)).not.toContain(id);
  });

  it('holds filters: attributes, include, exclude, and never an inactive item', async () => {
    const top = (await gql(api, RECS, { u: 'u9', limit: 5 })).data!.recommendations.items.map((i: any) => i.item.id);
    const dramas = Array.from({ length: 250 }, (_, i) => `i${i}`).filter((_, i) => i % 3 === 0);
    const UPSERT = `mutation U($input: [ItemInput!]!) { upsertItems(input: $input) { id } }`;
    expect(
      (await gql(api, UPSERT, { input: dramas.map((id) => ({ id, attributes: { genre: 'Drama' } })) })).errors,
    ).toBeUndefined();
    expect((await gql(api, UPSERT, { input: [{ id: top[0], active: false }] })).errors).toBeUndefined();
    const noInactive = (await gql(api, RECS, { u: 'u9', limit: 20 })).data!.recommendations.items.map(
      (i: any) => i.item.id,
    );
    expect(noInactive).not.toContain(top[0]);

    const drama = (await gql(api, RECS, { u: 'u9', limit: 10, filter: { attributes: { genre: 'Drama' } } })).data!
      .recommendations.items;
    expect(drama).toHaveLength(10);
    expect(drama.every((i: any) => i.item.attributes.genre === 'Drama')).toBe(true);

    const only = (
      await gql(api, RECS, { u: 'u9', limit: 10, filter: { includeIds: ['i1', 'i2', top[0]] } })
    ).data!.recommendations.items.map((i: any) => i.item.id);
    const seen = new Set(await seenBy('u9'));
    expect(only.sort()).toEqual(['i1', 'i2'].filter((id) => !seen.has(id) && id !== top[0]).sort());
    const excluded = (
      await gql(api, RECS, { u: 'u9', limit: 5, filter: { excludeIds: [top[1]] } })
    ).data!.recommendations.items.map((i: any) => i.item.id);
    expect(excluded).not.toContain(top[1]);
  });

  it('answers a query it has compiled with the same JSON as its first, uncompiled answer', async () => {
    // a query text of its own: its first run is on graphql-js, later ones on graphql-jit's compiled form
    const query = `query Compiled($u: ID!) { recommendations(userId: $u, limit: 7) { source modelVersion items { score item { id attributes } } } }`;
    const answers = [];
    for (let run = 0; run < 3; run++)
      answers.push(
        await request(api.getHttpServer())
          .post('/graphql')
          .send({ query, variables: { u: 'u11' } }),
      );
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.text).toBe(answers[0].text);
    }
    expect(answers[0].body.data.recommendations.items).toHaveLength(7);
    // an error keeps its code on the compiled path too
    const refused = await request(api.getHttpServer())
      .post('/graphql')
      .send({ query: query.replace('limit: 7', 'limit: 0') });
    expect(refused.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('rejects a limit outside 1..500', async () => {
    for (const limit of [0, 501])
      expect(firstErrorCode(await gql(api, RECS, { u: 'u1', limit }))).toBe('BAD_USER_INPUT');
  });

  it('refuses a query of unbounded breadth (aliases of an expensive field) before running any of it', async () => {
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, k) => `r${k}: recommendationsForItems(itemIds: ["i1"], limit: 500) { items { score item { id } } }`).join(' ')} }`;
    const fine = await gql(api, aliases(5));
    expect(fine.errors).toBeUndefined();
    expect(Object.keys(fine.data!)).toHaveLength(5);
    const broad = await gql(api, aliases(100));
    expect(firstErrorCode(broad)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(broad.errors![0].message).toMatch(/too complex/);
    expect(broad.data ?? null).toBeNull();
  });

  it('recommends for an anonymous session, lists unknown ids, finds similar items and returns the user embedding', async () => {
    const [a, b] = await seenBy('u1');
    const session = await gql(
      api,
      `query S($ids: [ID!]!) { recommendationsForItems(itemIds: $ids, limit: 5) { source unknownItemIds items { item { id } } } }`,
      { ids: [a, b, 'no-such-item'] },
    );
    expect(session.data!.recommendationsForItems).toMatchObject({
      source: 'FOLD_IN',
      unknownItemIds: ['no-such-item'],
    });
    const ids = session.data!.recommendationsForItems.items.map((i: any) => i.item.id);
    expect(ids).toHaveLength(5);
    expect(ids).not.toContain(a);
    expect(ids).not.toContain(b);

    // brute force: cosine of the item vectors other services read from Redis, fully sorted
    const version = (await gql(api, RECS, { u: 'u1', limit: 1 })).data!.recommendations.modelVersion;
    // the model's items: those with a vector
    const blobs = await Promise.all(
      Array.from({ length: 250 }, (_, i) => redis.hgetBuffer(itemKey(version, `i${i}`), 'vec')),
    );
    const itemIds = blobs.flatMap((blob, i) => (blob ? [`i${i}`] : []));
    const vectors = blobs.flatMap((blob) => (blob ? [new Float32Array(Uint8Array.from(blob).buffer)] : []));
    const norm = (v: Float32Array) => Math.hypot(...v);
    const target = vectors[itemIds.indexOf(a)];
    const cosine = vectors.map((v) => v.reduce((dot, x, d) => dot + x * target[d], 0) / (norm(v) * norm(target)));
    const reference = itemIds
      .filter((id) => id !== a)
      .sort((x, y) => cosine[itemIds.indexOf(y)] - cosine[itemIds.indexOf(x)])
      .slice(0, 5);
    // the second answer comes from the per-model neighbour cache
    for (let round = 0; round < 2; round++) {
      const sims = (
        await gql(api, `query S($id: ID!) { similarItems(itemId: $id, limit: 5) { items { item { id } score } } }`, {
          id: a,
        })
      ).data!.similarItems.items;
      expect(sims.map((i: any) => i.item.id)).toEqual(reference);
      sims.forEach((s: any, k: number) => expect(s.score).toBeCloseTo(cosine[itemIds.indexOf(reference[k])], 4));
    }
    // the second run is graphql-jit's compiled query: the same code
    for (let run = 0; run < 2; run++)
      expect(firstErrorCode(await gql(api, `{ similarItems(itemId: "nope") { source } }`))).toBe('NOT_FOUND');

    const EMB = `{ userEmbedding(userId: "u2") { modelVersion dimension vector source } }`;
    const emb = (await gql(api, EMB)).data!.userEmbedding;
    expect(emb).toMatchObject({ modelVersion: version, dimension: CONFIG.embeddingDim, source: 'EMBEDDING' });
    const cached = new Float32Array(Uint8Array.from((await redis.hgetBuffer(userKey(version, 'u2'), 'vec'))!).buffer);
    expect(emb.vector).toEqual(Array.from(cached));
    // once the user acts, the vector is their history encoded again
    const seenByU2 = new Set(await seenBy('u2'));
    const fresh = itemIds.find((id) => !seenByU2.has(id))!;
    await gql(api, `mutation { recordInteractions(input: [{ userId: "u2", itemId: "${fresh}" }]) { accepted } }`);
    const folded = (await gql(api, EMB)).data!.userEmbedding;
    expect(folded.source).toBe('FOLD_IN');
    expect(folded.vector).toHaveLength(CONFIG.embeddingDim);
    expect(folded.vector).not.toEqual(emb.vector);
  });

  it('answers similarItems from the nearest items the training job precomputed into Redis, and compares an item without them', async () => {
    const version = await servedVersion();
    expect(await redis.hget(metaKey(version), 'similarItems')).toBe('100');
    const SIMILAR = `query S($id: ID!, $limit: Int) { similarItems(itemId: $id, limit: $limit) { items { item { id } score } } }`;
    const similar = async (id: string, limit = 5) =>
      (await gql(api, SIMILAR, { id, limit })).data!.similarItems.items.map((i: any) => [i.item.id, i.score]);
    // items nobody asked about yet here: not in this process's neighbour cache
    const [listed, unlisted] = ['i200', 'i201'];
    const key = (id: string) => itemKey(version, id);
    const stored = decodeTopItems((await redis.hgetBuffer(key(listed), 'similar'))!);
    expect(stored.items).toHaveLength(100);
    // what the API answers is that list: rewritten here (scores halved), the answer follows it
    const rewritten = Array.from(stored.items, (item, r) => [item, stored.scores[r] / 2]);
    await redis.hset(
      key(listed),
      'similar',
      encodeTopItems(
        rewritten.map(([item]) => item),
        rewritten.map(([, score]) => score),
      ),
    );
    const { rows } = await db.query(`SELECT data FROM model_weight_chunks WHERE version = $1 ORDER BY seq`, [version]);
    const modelItems = deserializeModel(Buffer.concat(rows.map((r) => r.data))).itemIds;
    const answer = await similar(listed);
    expect(answer.map(([id]: [string]) => id)).toEqual(rewritten.slice(0, 5).map(([item]) => modelItems[item]));
    answer.forEach(([, score]: [string, number], k: number) => expect(score).toBeCloseTo(rewritten[k][1], 6));

    // without a list (an item past PRECOMPUTED_SIMILAR_ITEMS), the item is compared with the catalogue: the same ranking
    const listedBefore = decodeTopItems((await redis.hgetBuffer(key(unlisted), 'similar'))!);
    const reference = Array.from(listedBefore.items, (item, r) => [item, listedBefore.scores[r]]).slice(0, 5);
    await redis.hdel(key(unlisted), 'similar');
    const compared = await similar(unlisted);
    expect(compared.map(([id]: [string]) => id)).toEqual(reference.map(([item]) => modelItems[item]));
    compared.forEach(([, score]: [string, number], k: number) => expect(score).toBeCloseTo(reference[k][1], 5));
  });

  it('still answers in score order when the ranked candidates are all inactive (the full row is ranked)', async () => {
    const SESSION = `query S($ids: [ID!]!, $limit: Int) { recommendationsForItems(itemIds: $ids, limit: $limit) { items { item { id } } } }`;
    const UPSERT = `mutation U($input: [ItemInput!]!) { upsertItems(input: $input) { id } }`;
    const session = (await seenBy('u5')).slice(0, 3);
    const ranking = async (limit: number) =>
      (await gql(api, SESSION, { ids: session, limit })).data!.recommendationsForItems.items.map(
        (i: any) => i.item.id as string,
      );
    const userRanking = async (limit: number) =>
      (await gql(api, RECS, { u: 'u5', limit })).data!.recommendations.items.map((i: any) => i.item.id as string);
    const [all, allForUser] = [await ranking(500), await userRanking(500)];
    // the worst ten stay active: none of them is among the best candidates a scoring thread ranks
    const keep = new Set([...all.slice(-10), ...allForUser.slice(-10)]);
    const every = Array.from({ length: 250 }, (_, i) => `i${i}`);
    await gql(api, UPSERT, { input: every.map((id) => ({ id, active: keep.has(id) })) });
    try {
      expect(await ranking(20)).toEqual(all.filter((id: string) => keep.has(id)));
      expect(await userRanking(20)).toEqual(allForUser.filter((id: string) => keep.has(id)));
    } finally {
      await gql(api, UPSERT, { input: every.map((id) => ({ id, active: true })) });
    }
  });

  it('switches to a retrained model during a stream of requests with zero failed requests', async () => {
    let failures = 0;
    let answers = 0;
    let streaming = true;
    const stream = async () => {
      while (streaming) {
        const res = await gql(api, RECS, { u: `u${answers % 50}`, limit: 10 });
        if (res.errors || res.data?.recommendations.items.length !== 10) failures++;
        answers++;
      }
    };
    const clients = [stream(), stream(), stream()];
    const next = await train();
    await waitServing(next);
    for (let i = 0; i < 20; i++) await gql(api, RECS, { u: 'u1', limit: 10 });
    streaming = false;
    await Promise.all(clients);
    expect(answers).toBeGreaterThan(20);
    expect(failures).toBe(0);
    expect(await servedVersion()).toBe(next);
  });
});
