import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { CatalogueRepository } from './catalogue.repository';

describe('CatalogueRepository (Postgres)', () => {
  let db: Pool;
  let ds: DataSource;
  let repo: CatalogueRepository;
  const ITEMS = 400;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    repo = new CatalogueRepository(ds);
    await truncateStore(db);
    await db.query(`INSERT INTO items (external_id) SELECT 'i' || n FROM generate_series(1, ${ITEMS}) n`);
    await db.query(`INSERT INTO users (external_id) SELECT 'u' || n FROM generate_series(1, 20) n`);
    await db.query(
      `INSERT INTO interactions (user_id, item_id, type, occurred_at)
       SELECT u, i, 'view', now() FROM generate_series(1, 20) u, generate_series(1, ${ITEMS}) i WHERE (u * 7 + i) % 3 = 0`,
    );
  });
  afterAll(async () => {
    await truncateStore(db);
    await Promise.all([db.end(), ds.destroy()]);
  });

  it("a training's replacement of the counts and the scheduled recount, run at once, both finish and agree", async () => {
    const ids = Array.from({ length: ITEMS }, (_, i) => `i${i + 1}`);
    const { rows } = await db.query(
      `SELECT i.external_id AS id, count(*)::float8 AS n FROM interactions x JOIN items i ON i.id = x.item_id GROUP BY i.external_id`,
    );
    const counts = new Map(rows.map((r) => [r.id as string, r.n as number]));
    const training = ids.map((id) => counts.get(id) ?? 0);
    for (let round = 0; round < 30; round++) {
      // the replacement deletes and inserts every row while the recount upserts them: without a common
      // lock one of them collides with rows the other has just written (duplicate key) or deadlocks
      const results = await Promise.allSettled([repo.replacePopularity(ids, training), repo.recountPopularity()]);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    }
    const stored = await db.query(
      `SELECT i.external_id AS id, p.interactions AS n FROM item_popularity p JOIN items i ON i.id = p.item_id WHERE p.interactions > 0`,
    );
    expect(new Map(stored.rows.map((r) => [r.id as string, r.n as number]))).toEqual(counts);
  });

  it('reads the catalogue in chunks, most popular first, all of it from one snapshot', async () => {
    await repo.recountPopularity();
    const whole: string[] = [];
    await repo.all(true, null, (rows) => void whole.push(...rows.map((r) => r.id)), ITEMS);
    const chunks: number[] = [];
    const read: { id: string; interactions: number }[] = [];
    await repo.all(
      true,
      null,
      async (rows) => {
        chunks.push(rows.length);
        read.push(...rows);
        // written between two chunks: the rest of this read must not see it
        if (chunks.length === 1) {
          await db.query(`INSERT INTO items (external_id) VALUES ('new')`);
          await db.query(
            `INSERT INTO item_popularity (item_id, interactions) SELECT id, 1e6 FROM items WHERE external_id = 'new'`,
          );
        }
      },
      150,
    );
    try {
      expect(chunks).toEqual([150, 150, ITEMS - 300]);
      expect(read.map((r) => r.id)).toEqual(whole);
      const counts = read.map((r) => r.interactions);
      expect(counts).toEqual([...counts].sort((a, b) => b - a));
      // the next read sees the write
      const after: string[] = [];
      await repo.all(true, null, (rows) => void after.push(...rows.map((r) => r.id)));
      expect(after[0]).toBe('new');
      expect(after).toHaveLength(ITEMS + 1);
    } finally {
      await db.query(`DELETE FROM item_popularity WHERE item_id = (SELECT id FROM items WHERE external_id = 'new')`);
      await db.query(`DELETE FROM items WHERE external_id = 'new'`);
    }
  });

  it('items with the same attributes share one read-only object, others keep their own', async () => {
    await db.query(`UPDATE items SET attributes = jsonb_build_object('genre', 'g' || (id % 2)) WHERE id <= 4`);
    await db.query(`UPDATE items SET attributes = '{"genre": "g0", "year": 1999}' WHERE id = 5`);
    try {
      const read = new Map<string, Record<string, unknown>>();
      await repo.all(true, null, (rows) => rows.forEach((r) => read.set(r.id, r.attributes)));
      expect([1, 2, 3, 4, 5].map((n) => read.get(`i${n}`))).toEqual([
        { genre: 'g1' },
        { genre: 'g0' },
        { genre: 'g1' },
        { genre: 'g0' },
        { genre: 'g0', year: 1999 },
      ]);
      expect(read.get('i1')).toBe(read.get('i3'));
      expect(read.get('i2')).not.toBe(read.get('i1'));
      expect(Object.isFrozen(read.get('i1'))).toBe(true);
    } finally {
      await db.query(`UPDATE items SET attributes = '{}' WHERE id <= 5`);
    }
  });
});
