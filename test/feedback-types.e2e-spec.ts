import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RedisClient } from '@app/redis';
import type { Pool } from 'pg';
import { resetEnvCache, validateEnv } from '@app/config';
import { FeedbackTypeRepository } from '@app/database';
import { generateSynthetic } from '@app/synthetic';
import { firstErrorCode, gql } from '@app/testing';
import { FeedbackRulesService } from '../apps/api/src/feedback/feedback-rules.service';
import { createTestApiApp } from './create-test-app';
import { admin, TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env';
import { TestStack } from './test-stack';
import { trainToCompletion, waitForServedVersion } from './train-through-api';
import { itemKey, userKey } from '@app/embedding-store';

const TYPES = `query { feedbackTypes { type role weight conditions { role min max } } }`;
const SET_TYPE = `mutation T($input: FeedbackTypeInput!) { setFeedbackType(input: $input) { type role weight conditions { role min max } } }`;
const REMOVE_TYPE = `mutation T($type: String!) { removeFeedbackType(type: $type) }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const HISTORY = `query H($id: ID!) { user(id: $id) { interactions(limit: 50) { items { itemId type weight role } } } }`;
const RECS = `query R($u: ID!, $limit: Int) { recommendations(userId: $u, limit: $limit) { source items { score item { id } } } }`;
const CREATE_KEY = `mutation K($name: String!) { createApiKey(name: $name, scopes: [serve, ingest]) { key } }`;

const RATING = {
  type: 'rating',
  role: 'IGNORED',
  weight: 1,
  conditions: [
    { role: 'POSITIVE', min: 4, max: null },
    { role: 'NEGATIVE', min: null, max: 2 },
  ],
};

/** An API started with these variables, closed (and the variables forgotten) after `use`. */
async function withApi<T>(env: Record<string, string>, use: (api: NestFastifyApplication) => Promise<T>): Promise<T> {
  const api = await createTestApiApp(env);
  try {
    return await use(api);
  } finally {
    await api.close();
    for (const name of Object.keys(env)) delete process.env[name];
    resetEnvCache();
  }
}

describe('event types and their roles (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let db: Pool;
  let redis: RedisClient;

  beforeAll(async () => {
    stack = await TestStack.start({ worker: true });
    ({ api, db, redis } = stack);
  });
  afterAll(() => stack.close());

  it('declares, lists, replaces and forgets types, admin only, refusing bad rules with the field named', async () => {
    expect(firstErrorCode(await gql(api, TYPES))).toBe('UNAUTHENTICATED');
    const { key } = (await gql(api, CREATE_KEY, { name: 'web' }, admin)).data!.createApiKey;
    const asWeb = { authorization: `Bearer ${key}` };
    expect(firstErrorCode(await gql(api, SET_TYPE, { input: RATING }, asWeb))).toBe('FORBIDDEN');
    expect((await gql(api, TYPES, {}, admin)).data!.feedbackTypes).toEqual([]);

    expect((await gql(api, SET_TYPE, { input: RATING }, admin)).data!.setFeedbackType).toEqual(RATING);
    const purchase = { type: 'purchase', role: 'POSITIVE', weight: 3, conditions: [] };
    // weight and conditions have defaults
    expect((await gql(api, SET_TYPE, { input: { type: 'purchase', role: 'POSITIVE' } }, admin)).data).toEqual({
      setFeedbackType: { ...purchase, weight: 1 },
    });
    expect((await gql(api, SET_TYPE, { input: purchase }, admin)).data!.setFeedbackType).toEqual(purchase);
    expect((await gql(api, TYPES, {}, admin)).data!.feedbackTypes).toEqual([purchase, RATING]);

    for (const [input, message, field] of [
      [{ ...purchase, weight: 0 }, 'input.weight: must be above 0', 'weight'],
      [{ ...purchase, type: '' }, 'input.type: must not be empty', 'type'],
      [{ ...RATING, conditions: [{ role: 'NEGATIVE' }] }, 'input.conditions[0].min: give min, max or both', 'min'],
      [
        { ...RATING, conditions: [{ role: 'NEGATIVE', min: 3, max: 1 }] },
        'input.conditions[0].max: must not be below min',
        'max',
      ],
    ] as const) {
      const res = await gql(api, SET_TYPE, { input }, admin);
      expect(firstErrorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toContain(message);
      expect(res.errors![0].extensions).toMatchObject({ field });
    }
    // not a role: the variable is refused before the resolver runs
    expect(firstErrorCode(await gql(api, SET_TYPE, { input: { ...purchase, role: 'LIKED' } }, admin))).toBe(
      'BAD_USER_INPUT',
    );
    expect((await gql(api, TYPES, {}, admin)).data!.feedbackTypes).toEqual([purchase, RATING]);

    expect((await gql(api, REMOVE_TYPE, { type: 'purchase' }, admin)).data!.removeFeedbackType).toBe(true);
    expect((await gql(api, REMOVE_TYPE, { type: 'purchase' }, admin)).data!.removeFeedbackType).toBe(false);
    expect((await gql(api, TYPES, {}, admin)).data!.feedbackTypes).toEqual([RATING]);
  });

  it("lists every event in the history with its role under its type's rule now", async () => {
    await gql(api, SET_TYPE, { input: { type: 'shown', role: 'IMPRESSION' } }, admin);
    const input = [
      { userId: 'h1', itemId: 'a', type: 'rating', weight: 5 },
      { userId: 'h1', itemId: 'b', type: 'rating', weight: 3 },
      { userId: 'h1', itemId: 'c', type: 'rating', weight: 1 },
      { userId: 'h1', itemId: 'd', type: 'shown' },
      { userId: 'h1', itemId: 'e', type: 'view' },
    ];
    expect((await gql(api, RECORD, { input })).data!.recordInteractions.accepted).toBe(5);
    const roles = async () =>
      Object.fromEntries(
        (await gql(api, HISTORY, { id: 'h1' }, admin)).data!.user.interactions.items.map(
          (e: { itemId: string; role: string }) => [e.itemId, e.role],
        ),
      );
    expect(await roles()).toEqual({ a: 'POSITIVE', b: 'IGNORED', c: 'NEGATIVE', d: 'IMPRESSION', e: 'POSITIVE' });
    // a changed rule applies to the stored events at once
    await gql(api, SET_TYPE, { input: { ...RATING, conditions: [{ role: 'POSITIVE', min: 3 }] } }, admin);
    expect(await roles()).toEqual({ a: 'POSITIVE', b: 'POSITIVE', c: 'IGNORED', d: 'IMPRESSION', e: 'POSITIVE' });
    await gql(api, SET_TYPE, { input: RATING }, admin);
  });

  it('counts only POSITIVE events in popularity, and trains on them only: impressions and the rest are not seen', async () => {
    await stack.reset();
    await gql(api, SET_TYPE, { input: RATING }, admin);
    await gql(api, SET_TYPE, { input: { type: 'shown', role: 'IMPRESSION' } }, admin);
    // 60 users of two tastes; "flop" is shown to everyone and never liked, "meh" rated 3 by everyone
    const data = generateSynthetic({ users: 60, items: 30, seed: 2, perUser: 8, clusters: 2 });
    const input: object[] = [];
    for (let k = 0; k < data.user.length; k++)
      input.push({ userId: `u${data.user[k]}`, itemId: `i${data.item[k]}`, type: 'view' });
    for (let u = 0; u < 60; u++) {
      input.push({ userId: `u${u}`, itemId: 'flop', type: 'shown' });
      input.push({ userId: `u${u}`, itemId: 'meh', type: 'rating', weight: 3 });
    }
    // a user with impressions only: nothing to train on
    input.push({ userId: 'browser', itemId: 'i1', type: 'shown' });
    expect((await gql(api, RECORD, { input })).data!.recordInteractions.accepted).toBe(input.length);

    // before any training, popularity is counted live: POSITIVE events only
    const cold = (await gql(api, RECS, { u: 'stranger', limit: 40 })).data!.recommendations;
    expect(cold.source).toBe('POPULARITY');
    const positives = await db.query(
      `SELECT i.external_id AS id, count(*)::float8 AS n FROM interactions x JOIN items i ON i.id = x.item_id
       WHERE x.type = 'view' GROUP BY i.external_id`,
    );
    const expected = new Map(positives.rows.map((r) => [r.id as string, r.n as number]));
    const scores = new Map(cold.items.map((i: { score: number; item: { id: string } }) => [i.item.id, i.score]));
    for (const [id, n] of expected) expect(scores.get(id)).toBe(n);
    expect([scores.get('flop'), scores.get('meh')]).toEqual([0, 0]);

    const { version } = await trainToCompletion(api, { epochs: 2, embeddingDim: 8, hidden: [], patience: 0 });
    const row = (await db.query(`SELECT interactions, items, config FROM model_versions WHERE version = $1`, [version]))
      .rows[0];
    expect(Number(row.interactions)).toBe(positives.rows.reduce((a, r) => a + Number(r.n), 0));
    expect(row.config.feedback).toMatchObject({ halfLifeDays: null, retentionDays: null, events: input.length });
    // the items nobody gave a POSITIVE event are not in the model, nor is the user who gave none
    const stored = (
      await db.query(`SELECT i.external_id AS id FROM item_popularity p JOIN items i ON i.id = p.item_id`)
    ).rows.map((r) => r.id as string);
    expect(stored).not.toContain('flop');
    expect(stored).not.toContain('meh');
    expect(await redis.exists(userKey(version, 'browser'))).toBe(0);
    expect(await redis.exists(itemKey(version, 'flop'))).toBe(0);
    expect(await redis.exists(userKey(version, 'u1'))).toBe(1);

    // an impression is not seen: a fold-in encodes u1 from the same items as before; a view adds one
    const seenCount = async () => {
      for (let i = 0; i < 50 && (await redis.hexists(userKey(version, 'u1'), 'stale')); i++)
        await new Promise((r) => setTimeout(r, 50));
      return (await redis.hgetBuffer(userKey(version, 'u1'), 'seen'))!.length / 4;
    };
    await waitForServedVersion(api, version);
    const published = await seenCount();
    const viewed = new Set(input.filter((e: any) => e.userId === 'u1' && e.type === 'view').map((e: any) => e.itemId));
    const fresh = stored.find((id) => !viewed.has(id))!;
    await gql(api, RECORD, { input: [{ userId: 'u1', itemId: fresh, type: 'shown' }] });
    expect((await gql(api, RECS, { u: 'u1', limit: 5 })).data!.recommendations.source).toBe('FOLD_IN');
    expect(await seenCount()).toBe(published);
    await gql(api, RECORD, { input: [{ userId: 'u1', itemId: fresh, type: 'view' }] });
    expect((await gql(api, RECS, { u: 'u1', limit: 5 })).data!.recommendations.source).toBe('FOLD_IN');
    expect(await seenCount()).toBe(published + 1);
  });

  it('in strict mode refuses a batch holding an undeclared type, naming the event, and writes nothing', async () => {
    await gql(api, SET_TYPE, { input: RATING }, admin);
    await withApi({ FEEDBACK_STRICT: 'true' }, async (strict) => {
      const before = (await db.query(`SELECT count(*)::int AS n FROM interactions`)).rows[0].n;
      const res = await gql(strict, RECORD, {
        input: [
          { userId: 's1', itemId: 'a', type: 'rating', weight: 5 },
          { userId: 's1', itemId: 'b', type: 'wishlist' },
        ],
      });
      expect(firstErrorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toContain('input[1].type: "wishlist" is not a declared event type');
      expect(res.errors![0].extensions).toMatchObject({ index: 1, field: 'type' });
      expect((await db.query(`SELECT count(*)::int AS n FROM interactions`)).rows[0].n).toBe(before);
      // declared, it is taken
      await gql(strict, SET_TYPE, { input: { type: 'wishlist', role: 'POSITIVE', weight: 2 } }, admin);
      expect(
        (await gql(strict, RECORD, { input: [{ userId: 's1', itemId: 'b', type: 'wishlist' }] })).data!
          .recordInteractions.accepted,
      ).toBe(1);
    });
    // the bulk import too, before reading the file
    const dir = mkdtempSync(join(tmpdir(), 'recoder-strict-'));
    const file = join(dir, 'events.csv');
    writeFileSync(file, 'user,item,weight,timestamp\ns2,a,1,1700000000\n');
    const importing = (type: string) =>
      spawnSync(
        process.execPath,
        [
          '-r',
          '@swc-node/register',
          join(__dirname, '..', 'scripts/import.ts'),
          '--format',
          'csv',
          '--file',
          file,
          '--type',
          type,
        ],
        {
          env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, FEEDBACK_STRICT: 'true' },
        },
      );
    const refused = importing('pageview');
    expect(refused.status).toBe(1);
    expect(refused.stderr.toString()).toContain(
      'error: type "pageview" is not a declared event type (FEEDBACK_STRICT is on)',
    );
    expect((await db.query(`SELECT count(*)::int AS n FROM users WHERE external_id = 's2'`)).rows[0].n).toBe(0);
    const taken = importing('wishlist');
    expect(taken.status).toBe(0);
    expect(JSON.parse(taken.stdout.toString().trim())).toMatchObject({ inserted: 1 });

    // not strict: any type is taken (as POSITIVE of weight 1)
    expect((await gql(api, RECORD, { input: [{ userId: 's1', itemId: 'c', type: 'anything' }] })).data).toEqual({
      recordInteractions: { accepted: 1 },
    });
  });

  it("declares a config file's types at start, keeping a stored rule an admin changed, and refuses a bad file", async () => {
    await gql(api, SET_TYPE, { input: RATING }, admin);
    const dir = mkdtempSync(join(tmpdir(), 'recoder-feedback-'));
    const file = join(dir, 'feedback-types.json');
    writeFileSync(
      file,
      JSON.stringify({
        types: [
          { type: 'rating', role: 'IGNORED', conditions: [{ role: 'POSITIVE', min: 5 }] },
          { type: 'add-to-cart', role: 'POSITIVE', weight: 2 },
          { type: 'skip', role: 'NEGATIVE' },
        ],
      }),
    );
    const listed = await withApi({ FEEDBACK_TYPES_FILE: file }, async (seeded) =>
      (await gql(seeded, TYPES, {}, admin)).data!.feedbackTypes.map((t: { type: string }) => t.type),
    );
    expect(listed).toEqual(expect.arrayContaining(['add-to-cart', 'rating', 'skip']));
    const types = (await gql(api, TYPES, {}, admin)).data!.feedbackTypes;
    // rating was declared before: its stored rule stays
    expect(types.find((t: { type: string }) => t.type === 'rating')).toEqual(RATING);
    expect(types.find((t: { type: string }) => t.type === 'add-to-cart')).toEqual({
      type: 'add-to-cart',
      role: 'POSITIVE',
      weight: 2,
      conditions: [],
    });

    // a file that cannot be used stops the start (the service alone here: an app whose start failed keeps its connections)
    writeFileSync(file, JSON.stringify({ types: [{ type: 'skip', role: 'NEGATIVE', weigth: 2 }] }));
    const env = validateEnv({ ...process.env, FEEDBACK_TYPES_FILE: file });
    const starting = new FeedbackRulesService(api.get(FeedbackTypeRepository), redis, env);
    await expect(starting.onModuleInit()).rejects.toThrow(`FEEDBACK_TYPES_FILE ${file}: types[0].weigth: unknown key`);
    starting.beforeApplicationShutdown();
  });
});
