import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { firstErrorCode, gql } from '@app/testing';
import { admin } from './test-env';
import { TestStack } from './test-stack';

const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const DELETE_USER = `mutation D($id: ID!) { deleteUser(id: $id) { found } }`;

describe('users, items and stats (e2e)', () => {
  let stack: TestStack;
  let app: NestFastifyApplication;
  let db: Pool;

  beforeAll(async () => {
    stack = await TestStack.start({ worker: false });
    ({ api: app, db } = stack);
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    await stack.reset();
    const input = Array.from({ length: 25 }, (_, k) => ({
      userId: k < 20 ? 'alice' : 'bob',
      itemId: `m${k}`,
      occurredAt: new Date(Date.UTC(2024, 0, 1, 0, k)).toISOString(),
    }));
    await gql(app, RECORD, { input });
  });

  const userRows = async (id: string) =>
    (
      await db.query(
        `SELECT count(*)::int AS n FROM interactions x JOIN users u ON u.id = x.user_id WHERE u.external_id = $1`,
        [id],
      )
    ).rows[0].n;

  it('pages through a user history, newest first, without gaps or repeats', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    do {
      const res: any = await gql(
        app,
        `query U($before: String) { user(id: "alice") { interactionCount interactions(limit: 6, before: $before) { items { itemId } nextCursor } } }`,
        { before },
        admin,
      );
      expect(res.data.user.interactionCount).toBe(20);
      seen.push(...res.data.user.interactions.items.map((i: { itemId: string }) => i.itemId));
      before = res.data.user.interactions.nextCursor;
    } while (before);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, k) => `m${19 - k}`));
  });

  it('answers null for an unknown user and BAD_USER_INPUT for a forged cursor', async () => {
    expect((await gql(app, `{ user(id: "nobody") { id } }`, {}, admin)).data).toEqual({ user: null });
    const res = await gql(app, `{ user(id: "alice") { interactions(before: "garbage") { nextCursor } } }`, {}, admin);
    expect(firstErrorCode(res)).toBe('BAD_USER_INPUT');
  });

  it('refuses deleteUser without the admin key and keeps the user', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-key-0000000000' }] as Record<string, string>[]) {
      const res = await gql(app, DELETE_USER, { id: 'alice' }, headers);
      expect(firstErrorCode(res)).toBe('UNAUTHENTICATED');
    }
    expect(await userRows('alice')).toBe(20);
  });

  it('deleteUser with the admin key leaves no row of that user and nothing else touched', async () => {
    const res = await gql(app, DELETE_USER, { id: 'alice' }, admin);
    expect(res.data).toEqual({ deleteUser: { found: true } });
    expect((await db.query(`SELECT 1 FROM users WHERE external_id = 'alice'`)).rowCount).toBe(0);
    expect(await userRows('alice')).toBe(0);
    expect(await userRows('bob')).toBe(5);
    expect((await gql(app, DELETE_USER, { id: 'alice' }, admin)).data).toEqual({ deleteUser: { found: false } });
  });

  it('upserts items: attributes and active flag, keeping what an update leaves out', async () => {
    const UPSERT = `mutation I($input: [ItemInput!]!) { upsertItems(input: $input) { id attributes active } }`;
    const first = await gql(app, UPSERT, {
      input: [
        { id: 'm1', attributes: { genre: 'Drama' } },
        { id: 'new', active: false },
      ],
    });
    expect(first.data!.upsertItems).toEqual([
      { id: 'm1', attributes: { genre: 'Drama' }, active: true },
      { id: 'new', attributes: {}, active: false },
    ]);
    await gql(app, UPSERT, { input: [{ id: 'm1', active: false }] });
    expect((await gql(app, `{ item(id: "m1") { attributes active } }`)).data).toEqual({
      item: { attributes: { genre: 'Drama' }, active: false },
    });
    const dup = await gql(app, UPSERT, { input: [{ id: 'a' }, { id: 'a' }] });
    expect(firstErrorCode(dup)).toBe('BAD_USER_INPUT');
  });

  it('reports store stats', async () => {
    const res = await gql(app, `{ stats { users items interactions newestInteractionAt } }`, {}, admin);
    expect(res.data!.stats).toEqual({
      users: 2,
      items: 25,
      interactions: 25,
      newestInteractionAt: '2024-01-01T00:24:00.000Z',
    });
  });
});
