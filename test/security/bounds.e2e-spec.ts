import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { generateSynthetic } from '@app/synthetic';
import { firstErrorCode, gql, GraphqlResponse } from '@app/testing';
import { CatalogueService } from '../../apps/api/src/recommendations/catalogue.service';
import { LiveModelService } from '../../apps/api/src/recommendations/live-model.service';
import { TestStack } from '../test-stack';
import { admin } from '../test-env';
import { trainToCompletion } from '../train-through-api';
import { storeCounts } from './security-stack';

/**
 * Attacks that ask for unbounded work: each is refused before it runs (or answered from a bound),
 * with a clear code, and writes nothing. Every request carries the admin key, so what is tested
 * is the bound, not the key check.
 */
describe('bounded work (e2e attacks)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  const ask = (query: string, variables: Record<string, unknown> = {}) => gql(api, query, variables, admin);

  beforeAll(async () => {
    // a queue of one waiting row, so a burst of decodes overflows it
    process.env.SCORING_QUEUE_LIMIT = '1';
    stack = await TestStack.start();
    api = stack.api;
  });
  afterAll(async () => {
    delete process.env.SCORING_QUEUE_LIMIT;
    await stack.close();
  });

  const nothingWritten = async () => {
    expect(await storeCounts(stack.db)).toEqual({ users: 0, items: 0, interactions: 0, api_keys: 0 });
  };
  const refused = (res: GraphqlResponse, code: string, message: RegExp) => {
    expect(firstErrorCode(res)).toBe(code);
    expect(res.errors![0].message).toMatch(message);
    expect(res.data ?? null).toBeNull();
  };

  it('refuses an aliased cost bomb of a decoding field before running any of it', async () => {
    const aliases = Array.from(
      { length: 12 },
      (_, k) => `r${k}: recommendationsForItems(itemIds: ["i1"], limit: 500) { items { score } }`,
    );
    refused(await ask(`{ ${aliases.join(' ')} }`), 'GRAPHQL_VALIDATION_FAILED', /too complex/);
    // six of them are within the budget: the bound is the cost, not a ban
    expect((await ask(`{ ${aliases.slice(0, 6).join(' ')} }`)).errors).toBeUndefined();
  });

  it('refuses a nested cost bomb: a fragment of Postgres-backed fields spread under many users', async () => {
    const users = Array.from({ length: 8 }, (_, k) => `u${k}: user(id: "u${k}") { ...H }`).join(' ');
    const doc = `{ ${users} } fragment H on User { interactionCount interactions(limit: 500) { items { itemId type weight } } }`;
    refused(await ask(doc), 'GRAPHQL_VALIDATION_FAILED', /too complex/);
  });

  it('counts introspection: aliased __schema lists are refused, one small introspection passes', async () => {
    expect((await ask(`{ __schema { queryType { name } } }`)).errors).toBeUndefined();
    const aliases = Array.from({ length: 10 }, (_, k) => `s${k}: __schema { types { name } }`).join(' ');
    refused(await ask(`{ ${aliases} }`), 'GRAPHQL_VALIDATION_FAILED', /too complex/);
    // one introspection whose lists multiply (every type's every field) costs what it returns
    refused(
      await ask(`{ __schema { types { fields { name args { name } } } } }`),
      'GRAPHQL_VALIDATION_FAILED',
      /too complex/,
    );
  });

  it('refuses an alias flood of a cheap field', async () => {
    const aliases = Array.from({ length: 16 }, (_, k) => `s${k}: stats { users }`).join(' ');
    refused(await ask(`{ ${aliases} }`), 'GRAPHQL_VALIDATION_FAILED', /Aliases limit of 15 exceeded/);
  });

  it('refuses a token flood before building its syntax tree', async () => {
    refused(await ask(`{ stats { ${'users '.repeat(6000)} } }`), 'GRAPHQL_PARSE_FAILED', /tokens/);
  });

  it('refuses a document nested past the depth limit, introspection included', async () => {
    // cheap (one type's fields) but seven deep
    refused(
      await ask(`{ __type(name: "Query") { fields { type { ofType { ofType { ofType { name } } } } } } }`),
      'GRAPHQL_VALIDATION_FAILED',
      /depth/,
    );
  });

  it('answers an oversized body 413 with a GraphQL-shaped PAYLOAD_TOO_LARGE, and writes nothing', async () => {
    const input = Array.from({ length: 12_000 }, (_, k) => ({
      userId: `user-${k}`,
      itemId: `item-${k}`,
      type: 'view',
      eventId: `event-${'x'.repeat(120)}-${k}`,
    }));
    const body = JSON.stringify({
      query: 'mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }',
      variables: { input },
    });
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
    const res = await request(api.getHttpServer())
      .post('/graphql')
      .set(admin)
      .set('content-type', 'application/json')
      .send(body);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      data: null,
      errors: [{ message: expect.stringMatching(/too large/), extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
    await nothingWritten();
  });

  it('refuses id lists past 1,000 in every list argument', async () => {
    const ids = Array.from({ length: 1001 }, (_, k) => `i${k}`);
    const calls = [
      ['query Q($ids: [ID!]!) { recommendationsForItems(itemIds: $ids) { source } }', { ids }],
      ['query Q($ids: [ID!]!) { embeddings(kind: USER, ids: $ids) { version } }', { ids }],
      ['query Q($ids: [ID!]!) { embeddingMap(kind: ITEM, ids: $ids) { version } }', { ids }],
      ['query Q($f: ItemFilter) { recommendations(userId: "u1", filter: $f) { source } }', { f: { includeIds: ids } }],
      [
        'query Q($f: ItemFilter) { recommendationsForItems(itemIds: ["i1"], filter: $f) { source } }',
        { f: { excludeIds: ids } },
      ],
    ] as const;
    for (const [query, variables] of calls) refused(await ask(query, variables), 'BAD_USER_INPUT', /at most 1000 ids/);
  });

  it('refuses attribute filters and item attributes past 16 KB or 5 levels, writing nothing', async () => {
    const big = { genre: 'x'.repeat(17 * 1024) };
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    for (const attributes of [big, deep]) {
      const filter = await ask('query Q($f: ItemFilter) { recommendations(userId: "u1", filter: $f) { source } }', {
        f: { attributes },
      });
      refused(filter, 'BAD_USER_INPUT', /filter\.attributes: must be at most/);
      const upsert = await ask('mutation U($i: [ItemInput!]!) { upsertItems(input: $i) { id } }', {
        i: [{ id: 'ok' }, { id: 'big', attributes }],
      });
      refused(upsert, 'BAD_USER_INPUT', /input\[1\]\.attributes: must be at most/);
      expect(upsert.errors![0].extensions).toMatchObject({ index: 1, field: 'attributes' });
    }
    await nothingWritten();
  });

  it('bounds every statement of the API pool (STATEMENT_TIMEOUT_MS)', async () => {
    const pool = api.get(DataSource);
    expect(await pool.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '5s' }]);
    const other = await stack.db.query('SHOW statement_timeout');
    // the test's own pool (like the worker's) is not the API's: no limit there
    expect(other.rows[0].statement_timeout).toBe('0');
    await expect(pool.query('SELECT pg_sleep(5.5)')).rejects.toThrow(/statement timeout/);
  });

  describe('with a model', () => {
    beforeAll(async () => {
      await stack.reset(generateSynthetic({ users: 200, items: 120, seed: 5, perUser: 15, clusters: 4 }));
      // loaded behind the API's back: its catalogue must be read again
      api.get(CatalogueService).invalidate();
      const { version } = await trainToCompletion(api, {
        epochs: 2,
        embeddingDim: 8,
        hidden: [16],
        seed: 1,
        patience: 0,
        batchSize: 50,
      });
      for (let i = 0; i < 100 && api.get(LiveModelService).current()?.version !== version; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(api.get(LiveModelService).current()?.version).toBe(version);
    });

    it('fails a burst of decodes past SCORING_QUEUE_LIMIT fast with OVERLOADED, and serves again after', async () => {
      const query =
        'query S($ids: [ID!]!) { recommendationsForItems(itemIds: $ids, limit: 5) { source items { item { id } } } }';
      const burst = await Promise.all(
        Array.from({ length: 40 }, (_, k) => ask(query, { ids: [`i${k % 100}`, `i${(k * 7) % 100}`] })),
      );
      const codes = burst.map((res) => firstErrorCode(res) ?? 'OK');
      expect(codes).toContain('OVERLOADED');
      expect(codes).toContain('OK');
      expect(codes.filter((c) => c !== 'OK' && c !== 'OVERLOADED')).toEqual([]);
      expect(burst.find((res) => firstErrorCode(res) === 'OVERLOADED')!.errors![0].message).toMatch(/retry/);
      const after = await ask(query, { ids: ['i1'] });
      expect(after.data!.recommendationsForItems.items).toHaveLength(5);
    });

    it('scores userAnomaly on the scoring threads, once per history and version', async () => {
      const live = api.get(LiveModelService).current()!;
      const reconstructions = jest.spyOn(live.scoring, 'reconstruct');
      const record = (item: string) =>
        ask(`mutation { recordInteractions(input: [{ userId: "u3", itemId: "${item}" }]) { accepted } }`);
      const anomaly = async () =>
        (await ask(`{ userAnomaly(userId: "u3") { score percentile source version } }`)).data!.userAnomaly;
      expect((await record('i7')).errors).toBeUndefined();
      const first = await anomaly();
      expect(first).toMatchObject({ source: 'FOLD_IN', version: live.version });
      expect(reconstructions).toHaveBeenCalledTimes(1);
      // asked again with the same history: the cached score, no decode
      expect(await anomaly()).toEqual(first);
      expect(reconstructions).toHaveBeenCalledTimes(1);
      // a new interaction changes the history: scored again
      expect((await record('i8')).errors).toBeUndefined();
      await anomaly();
      expect(reconstructions).toHaveBeenCalledTimes(2);
      reconstructions.mockRestore();
    });
  });
});
