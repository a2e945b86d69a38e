import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getNamedType } from 'graphql';
import { parseTimestamp } from '@app/ingest';
import { firstErrorCode, gql, GraphqlResponse } from '@app/testing';
import { encodeCursor } from '../../apps/api/src/users/history-cursor';
import { TestStack } from '../test-stack';
import { admin } from '../test-env';
import { documentOf, idPathsOf, RootField, valuesWith } from './schema-fields';
import { schemaRootFields, storeCounts } from './security-stack';

/** Ids and types a client might send to break a store, a file or a log line: each must be BAD_USER_INPUT. */
const BAD_IDS: Array<[string, string]> = [
  ['NUL', 'a\u0000b'],
  ['line feed', 'a\nb'],
  ['carriage return', 'a\rb'],
  ['tab', 'a\tb'],
  ['escape', 'a\u001bb'],
  ['C1 control', 'a\u0085b'],
  ['line separator', 'a\u2028b'],
  ['lone high surrogate', 'a\ud800b'],
  ['lone low surrogate', '\udc00'],
  ['empty', ''],
  ['blank', '   '],
  ['257 characters', 'x'.repeat(257)],
];

const RECORD = 'mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }';

/**
 * Malformed input on every read and write path: refused as BAD_USER_INPUT (never an internal
 * error), naming the field, and nothing is written.
 */
describe('input validation (e2e attacks)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let fields: RootField[];
  const ask = (query: string, variables: Record<string, unknown> = {}) => gql(api, query, variables, admin);

  beforeAll(async () => {
    stack = await TestStack.start({ worker: false });
    api = stack.api;
    fields = schemaRootFields(api);
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.reset());

  /** Users, items, interactions and API keys. */
  const counts = async () => Object.values(await storeCounts(stack.db));
  const badInput = (res: GraphqlResponse, field?: RegExp) => {
    expect(firstErrorCode(res)).toBe('BAD_USER_INPUT');
    if (field) expect(res.errors![0].message).toMatch(field);
  };

  it('finds the id-taking arguments in the schema', () => {
    const covered = fields.filter((f) => idPathsOf(f.field).length > 0).map((f) => f.field.name);
    expect(covered).toEqual(
      expect.arrayContaining([
        'recordInteractions',
        'upsertItems',
        'user',
        'item',
        'recommendations',
        'recommendationsForItems',
        'similarItems',
      ]),
    );
    expect(covered).toEqual(
      expect.arrayContaining([
        'userEmbedding',
        'userAnomaly',
        'embeddings',
        'embeddingMap',
        'deleteUser',
        'trainingJob',
        'exportJob',
      ]),
    );
    expect(covered).toEqual(expect.arrayContaining(['createApiKey', 'revokeApiKey', 'exportDownloadLink']));
  });

  it('refuses control characters and malformed Unicode in every id-taking argument, writing nothing', async () => {
    const wrong: string[] = [];
    let tried = 0;
    for (const root of fields) {
      for (const path of idPathsOf(root.field)) {
        for (const [name, bad] of BAD_IDS) {
          const res = await ask(documentOf(root), valuesWith(root.field, path, bad));
          tried++;
          if (firstErrorCode(res) !== 'BAD_USER_INPUT')
            wrong.push(`${root.field.name} ${path.join('.')} ${name}: ${JSON.stringify(res.errors ?? res.data)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(tried).toBeGreaterThan(200);
    expect(await counts()).toEqual([0, 0, 0, 0]);
  });

  it('refuses the same in a resolved field (user.interactions) and an id that is fine otherwise passes', async () => {
    expect((await ask(RECORD, { input: [{ userId: 'ok-ü-😀', itemId: 'i 1' }] })).errors).toBeUndefined();
    expect(await counts()).toEqual([1, 1, 1, 0]);
    const res = await ask('query U($id: ID!) { user(id: $id) { id interactionCount } }', { id: 'ok-ü-😀' });
    expect(res.data!.user).toEqual({ id: 'ok-ü-😀', interactionCount: 1 });
  });

  it.each([
    ['past float4', 1e39],
    ['negative past float4', -1e39],
    ['past the documented 1e6', 1_000_001],
    ['vanishing in float4', 1e-40],
    ['not a number', 'heavy'],
    ['a string number', '1'],
  ])('refuses a weight %s, writing nothing', async (_name, weight) => {
    badInput(
      await ask(RECORD, {
        input: [
          { userId: 'u', itemId: 'i' },
          { userId: 'u', itemId: 'j', weight },
        ],
      }),
      /weight/,
    );
    expect(await counts()).toEqual([0, 0, 0, 0]);
  });

  it.each([
    ['in year 9999', '9999-01-01T00:00:00Z'],
    ['before 1970', '1969-12-31T23:59:59Z'],
    ['two days ahead', () => new Date(Date.now() + 2 * 86_400_000).toISOString()],
    ['malformed', '2024-13-45'],
  ])('refuses an occurredAt %s, as the import does, writing nothing', async (_name, time) => {
    const occurredAt = typeof time === 'function' ? time() : time;
    const res = await ask(RECORD, { input: [{ userId: 'u', itemId: 'i', occurredAt }] });
    badInput(res, /occurredAt/);
    expect(await counts()).toEqual([0, 0, 0, 0]);
    expect(() => parseTimestamp(occurredAt, 1)).toThrow();
  });

  it('refuses NUL characters and lone surrogates in attributes, keys and values, writing nothing', async () => {
    const attacks = [
      { genre: 'a\u0000b' },
      { 'ge\u0000nre': 'x' },
      { genre: '\ud800' },
      { nested: { list: ['ok', 'bad\u0000'] } },
    ];
    for (const attributes of attacks) {
      const upsert = await ask('mutation U($i: [ItemInput!]!) { upsertItems(input: $i) { id } }', {
        i: [{ id: 'x', attributes }],
      });
      badInput(upsert, /input\[0\]\.attributes: must not contain/);
      badInput(
        await ask('query Q($f: ItemFilter) { recommendations(userId: "u", filter: $f) { source } }', {
          f: { attributes },
        }),
        /filter\.attributes/,
      );
    }
    expect(await counts()).toEqual([0, 0, 0, 0]);
  });

  it('refuses malformed and out-of-range history cursors', async () => {
    expect((await ask(RECORD, { input: [{ userId: 'u', itemId: 'i' }] })).errors).toBeUndefined();
    const page = 'query P($b: String) { user(id: "u") { interactions(limit: 1, before: $b) { items { itemId } } } }';
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const cursors = [
      'garbage',
      b64('99999999999999999999:1'),
      b64('1:99999999999999999999'),
      b64('9007199254740993:1'),
      b64('1:-1'),
      b64('1:2\n'),
      'x'.repeat(10_000),
    ];
    for (const before of cursors) badInput(await ask(page, { b: before }), /before: is not a cursor/);
    // a cursor the API handed out still works
    const fine = await ask(page, { b: encodeCursor({ occurredUs: String(Date.now() * 1000), id: '1' }) });
    expect(fine.errors).toBeUndefined();
    expect(await counts()).toEqual([1, 1, 1, 0]);
  });

  it('refuses every limit argument out of its range, checked once for all fields', async () => {
    const withLimit = fields.filter((f) => f.field.args.some((a) => a.name === 'limit'));
    expect(withLimit.length).toBeGreaterThanOrEqual(5);
    for (const root of withLimit) {
      for (const limit of [0, -1, 100_000]) {
        const res = await ask(documentOf(root), { ...valuesWith(root.field, ['limit'], limit) });
        badInput(res, /^limit: must be an integer from 1 to \d+$/);
      }
    }
    // and user.interactions, a resolved field (of a user who exists)
    expect((await ask(RECORD, { input: [{ userId: 'u', itemId: 'i' }] })).errors).toBeUndefined();
    badInput(await ask('{ user(id: "u") { interactions(limit: 0) { nextCursor } } }'), /limit/);
  });

  it('refuses a negative model version wherever one is taken', async () => {
    const withVersion = fields.filter((f) =>
      f.field.args.some((a) => a.name === 'version' && getNamedType(a.type).name === 'Int'),
    );
    expect(withVersion.map((f) => f.field.name)).toEqual(
      expect.arrayContaining(['model', 'activateModel', 'embeddings', 'exportEmbeddings']),
    );
    for (const root of withVersion)
      badInput(
        await ask(documentOf(root), valuesWith(root.field, ['version'], -1)),
        // onlineMetrics also takes 0: the answers no model scored (popularity)
        root.field.name === 'onlineMetrics'
          ? /version: must be a non-negative integer/
          : /version: must be a positive integer/,
      );
  });
});
