import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { EnvVars } from '@app/config';
import { CatalogueRepository } from '@app/database';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { Catalogue, CATALOGUE_MAX_AGE_MS, CATALOGUE_TTL_MS, CatalogueService } from './catalogue.service';

describe('CatalogueService (Postgres)', () => {
  let db: Pool;
  let ds: DataSource;
  let now = Date.now();

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await truncateStore(db);
    await Promise.all([db.end(), ds.destroy()]);
  });

  beforeEach(async () => {
    await truncateStore(db);
    await db.query(`INSERT INTO items (external_id) SELECT 'i' || n FROM generate_series(1, 3) n`);
    await db.query(`INSERT INTO users (external_id) VALUES ('u1'), ('u2')`);
    // i3 the most interacted with, then i2
    await db.query(
      `INSERT INTO interactions (user_id, item_id, type, occurred_at) VALUES (1, 3, 'view', now()), (2, 3, 'view', now()), (1, 2, 'view', now())`,
    );
  });

  /** Waits for the background refresh a stale get() starts; the snapshot answered meanwhile is the old one. */
  async function afterRefresh(service: CatalogueService): Promise<Catalogue> {
    const before = await service.get();
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const current = await service.get();
      if (current !== before || current.checkedAt === now) return current;
    }
    throw new Error('no refresh happened');
  }
  const ranked = (c: Catalogue) => c.popular.map((i) => [i.id, i.interactions]);

  it('counts popularity from the interactions until a training has stored its counts, then reads those', async () => {
    const service = new CatalogueService(new CatalogueRepository(ds));
    expect(ranked(await service.get())).toEqual([
      ['i3', 2],
      ['i2', 1],
      ['i1', 0],
    ]);
    await new CatalogueRepository(ds).replacePopularity(['i1', 'i2', 'unknown'], [5, 4, 9]);
    now += CATALOGUE_TTL_MS + 1;
    expect(ranked(await afterRefresh(service))).toEqual([
      ['i1', 5],
      ['i2', 4],
      ['i3', 0],
    ]);
  });

  it('counts live popularity from POSITIVE events within FEEDBACK_RETENTION_DAYS only, when it is set', async () => {
    // i1: many views long ago, and a dislike (NEGATIVE) now
    await db.query(
      `INSERT INTO interactions (user_id, item_id, type, occurred_at)
       SELECT 1 + n % 2, 1, 'view', now() - interval '30 days' - n * interval '1 minute' FROM generate_series(1, 5) n`,
    );
    await db.query(`INSERT INTO feedback_types (type, role) VALUES ('dislike', 'NEGATIVE')`);
    await db.query(`INSERT INTO interactions (user_id, item_id, type, occurred_at) VALUES (2, 1, 'dislike', now())`);
    const all = new CatalogueService(new CatalogueRepository(ds));
    expect(ranked(await all.get())[0]).toEqual(['i1', 5]);
    const recent = new CatalogueService(new CatalogueRepository(ds), { FEEDBACK_RETENTION_DAYS: 7 } as EnvVars);
    expect(ranked(await recent.get())).toEqual([
      ['i3', 2],
      ['i2', 1],
      ['i1', 0],
    ]);
  });

  it('keeps its snapshot while the store is unchanged, and reloads once an item or the counts change', async () => {
    const repo = new CatalogueRepository(ds);
    await repo.replacePopularity(['i1', 'i2', 'i3'], [1, 2, 3]);
    const service = new CatalogueService(repo);
    const first = await service.get();
    now += CATALOGUE_TTL_MS + 1;
    const checked = await afterRefresh(service);
    expect(checked).toBe(first);

    // an update that keeps an older timestamp still shows, through the write counters
    await db.query(`UPDATE items SET active = false, updated_at = now() - interval '1 day' WHERE external_id = 'i3'`);
    let reloaded = first;
    for (let i = 0; i < 20 && reloaded === first; i++) {
      // the statistics collector publishes a transaction's counts within about a second
      await new Promise((r) => setTimeout(r, 250));
      now += CATALOGUE_TTL_MS + 1;
      reloaded = await afterRefresh(service);
    }
    expect(ranked(reloaded)).toEqual([
      ['i2', 2],
      ['i1', 1],
    ]);

    await repo.replacePopularity(['i1', 'i2'], [7, 1]);
    now += CATALOGUE_TTL_MS + 1;
    expect(ranked(await afterRefresh(service))).toEqual([
      ['i1', 7],
      ['i2', 1],
    ]);
  });

  it('reloads an old snapshot even when nothing seems to have changed', async () => {
    const repo = new CatalogueRepository(ds);
    await repo.replacePopularity(['i1'], [1]);
    const service = new CatalogueService(repo);
    const first = await service.get();
    now += CATALOGUE_MAX_AGE_MS + 1;
    const later = await afterRefresh(service);
    expect(later).not.toBe(first);
    expect(later.popular.map((i) => i.id)).toEqual(first.popular.map((i) => i.id));
  });
});
