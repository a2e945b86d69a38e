import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { CatalogueRepository } from './catalogue.repository';

describe('CatalogueRepository popularity writers (Postgres)', () => {
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
});
