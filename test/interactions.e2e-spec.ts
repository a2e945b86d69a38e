import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { countRows, firstErrorCode, gql } from '@app/testing';
import { TestStack } from './test-stack';

const RECORD = `mutation Record($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted duplicates } }`;

describe('recordInteractions (e2e)', () => {
  let stack: TestStack;
  let app: NestFastifyApplication;
  let db: Pool;

  beforeAll(async () => {
    stack = await TestStack.start({ worker: false });
    ({ api: app, db } = stack);
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.reset());

  const events = (n: number, prefix = 'e') =>
    Array.from({ length: n }, (_, k) => ({
      userId: `u${k % 7}`,
      itemId: `i${k % 13}`,
      type: k % 2 ? 'click' : 'view',
      weight: 1 + (k % 3),
      occurredAt: new Date(Date.UTC(2024, 0, 1, 0, 0, k)).toISOString(),
      eventId: `${prefix}${k}`,
    }));

  it('stores a batch, creating unknown users and items', async () => {
    const res = await gql(app, RECORD, { input: events(50) });
    expect(res.errors).toBeUndefined();
    expect(res.data!.recordInteractions).toEqual({ accepted: 50, duplicates: 0 });
    expect(await countRows(db, 'interactions')).toBe(50);
    expect(await countRows(db, 'users')).toBe(7);
    expect(await countRows(db, 'items')).toBe(13);
  });

  it('skips events whose eventId is already stored, across and within batches', async () => {
    await gql(app, RECORD, { input: events(20) });
    const retried = await gql(app, RECORD, { input: events(30) });
    expect(retried.data!.recordInteractions).toEqual({ accepted: 10, duplicates: 20 });
    const twiceInOneBatch = [
      { userId: 'x', itemId: 'y', eventId: 'same', occurredAt: '2024-02-01T00:00:00Z' },
      { userId: 'x', itemId: 'z', eventId: 'same', occurredAt: '2024-02-01T00:00:01Z' },
    ];
    const res = await gql(app, RECORD, { input: twiceInOneBatch });
    expect(res.data!.recordInteractions).toEqual({ accepted: 1, duplicates: 1 });
    expect(await countRows(db, 'interactions')).toBe(31);
  });

  // queries are compiled (graphql-jit) once they repeat; mutations must keep graphql-js's input defaults
  it('applies the input defaults (type view, weight 1) on every run of the same mutation', async () => {
    for (let run = 0; run < 4; run++) {
      const res = await gql(app, RECORD, { input: [{ userId: 'd', itemId: `i${run}` }] });
      expect(res.data!.recordInteractions).toEqual({ accepted: 1, duplicates: 0 });
    }
    const { rows } = await db.query(`SELECT DISTINCT type, weight FROM interactions`);
    expect(rows).toEqual([{ type: 'view', weight: 1 }]);
  });

  it('takes 10,000 events in one call', async () => {
    const res = await gql(app, RECORD, { input: events(10_000, 'big') });
    expect(res.data!.recordInteractions).toEqual({ accepted: 10_000, duplicates: 0 });
  });

  describe('an invalid batch fails whole, naming index and field, and writes nothing', () => {
    const cases: Array<[string, (batch: Record<string, unknown>[]) => unknown[], RegExp]> = [
      ['empty user id', (b) => ((b[3].userId = ''), b), /input\[3\]\.userId/],
      ['blank item id', (b) => ((b[4].itemId = '   '), b), /input\[4\]\.itemId/],
      ['over-long item id', (b) => ((b[5].itemId = 'x'.repeat(257)), b), /input\[5\]\.itemId/],
      ['over-long event id', (b) => ((b[6].eventId = 'e'.repeat(300)), b), /input\[6\]\.eventId/],
      // one id per line in ids.txt: a newline inside an id would shift every row after it
      [
        'newline in a user id',
        (b) => ((b[2].userId = 'u\n2'), b),
        /input\[2\]\.userId: must not contain a line break \(U\+000A\)/,
      ],
      ['malformed timestamp', (b) => ((b[7].occurredAt = '2024-13-45 not a time'), b), /input\[7\]\.occurredAt/],
      ['non-numeric weight', (b) => ((b[8].weight = 'heavy'), b), /input\[8\]\.weight/],
      ['batch over the limit', () => events(10_001, 'over'), /at most 10000/],
    ];
    it.each(cases)('%s', async (_name, corrupt, message) => {
      const res = await gql(app, RECORD, { input: corrupt(events(10)) });
      expect(firstErrorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toMatch(message);
      expect(await countRows(db, 'interactions')).toBe(0);
      expect(await countRows(db, 'users')).toBe(0);
      expect(await countRows(db, 'items')).toBe(0);
    });
  });
});
