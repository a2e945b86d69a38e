import { Pool } from 'pg';
import { getEnv } from '@app/config';
import { INTERACTION_TYPES, generateSynthetic, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { testPool, truncateStore } from '@app/testing';
import { copySyntheticFresh } from './copy-synthetic';

const URL = getEnv().DATABASE_URL;
const INDEXES = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'interactions' ORDER BY indexname`;

describe('copySyntheticFresh (bench:scale setup)', () => {
  let db: Pool;
  const data = generateSynthetic({ users: 40, items: 60, seed: 5, perUser: 8 });

  beforeAll(() => (db = testPool(URL)));
  beforeEach(() => truncateStore(db));
  afterAll(() => db.end());

  it('stores every generated interaction as the import path would, with the same indexes', async () => {
    const indexesBefore = (await db.query(INDEXES)).rows;
    const copied = await copySyntheticFresh(URL, data);

    expect(copied.rows).toBe(data.user.length);
    expect((await db.query(INDEXES)).rows).toEqual(indexesBefore);
    const { rows } = await db.query<{ user: string; item: string; type: string; weight: number; at: number }>(
      `SELECT u.external_id AS user, i.external_id AS item, x.type, x.weight, extract(epoch FROM x.occurred_at)::int AS at
       FROM interactions x JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id ORDER BY x.id`,
    );
    expect(rows).toEqual(
      Array.from(data.user, (u, k) => ({
        user: syntheticUserId(u),
        item: syntheticItemId(data.item[k]),
        type: INTERACTION_TYPES[data.type[k]],
        weight: data.weight[k],
        at: data.occurredAt[k],
      })),
    );
    // the whole catalogue, items nobody drew included
    expect((await db.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(data.items);
  });

  it('leaves the id sequences past the copied rows, so the app can add users, items and interactions', async () => {
    await copySyntheticFresh(URL, data);

    const user = await db.query<{ id: number }>(`INSERT INTO users (external_id) VALUES ('new-user') RETURNING id`);
    const item = await db.query<{ id: number }>(`INSERT INTO items (external_id) VALUES ('new-item') RETURNING id`);
    const row = await db.query<{ id: string }>(
      `INSERT INTO interactions (user_id, item_id, type) VALUES ($1, $2, 'view') RETURNING id`,
      [user.rows[0].id, item.rows[0].id],
    );
    expect(user.rows[0].id).toBe(data.users + 1);
    expect(item.rows[0].id).toBe(data.items + 1);
    expect(Number(row.rows[0].id)).toBeGreaterThan(data.user.length);
  });

  it('refuses a database that holds interactions, and changes nothing there', async () => {
    await copySyntheticFresh(URL, data);

    await expect(copySyntheticFresh(URL, data)).rejects.toThrow(/fresh database/);
    expect((await db.query('SELECT count(*)::int AS n FROM interactions')).rows[0].n).toBe(data.user.length);
  });
});
