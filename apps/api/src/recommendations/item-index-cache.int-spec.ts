import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { validateEnv } from '@app/config';
import { ModelIndexRepository } from '@app/database';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { ItemIndexCache } from './item-index-cache';

describe(`${ItemIndexCache.name} (Postgres, local disk)`, () => {
  let db: Pool;
  let ds: DataSource;
  let indexes: ModelIndexRepository;
  let cacheDir: string;
  let sut: ItemIndexCache;
  const source = mkdtempSync(join(tmpdir(), 'recoder-index-cache-src-'));

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    indexes = new ModelIndexRepository(ds);
  });
  beforeEach(async () => {
    await truncateStore(db);
    await db.query(`INSERT INTO model_versions (status, config) VALUES ('READY', '{}'), ('READY', '{}')`);
    cacheDir = mkdtempSync(join(tmpdir(), 'recoder-index-cache-'));
    sut = new ItemIndexCache(indexes, validateEnv({ ANN_CACHE_DIR: join(cacheDir, 'ann') }));
    writeFileSync(join(source, 'scores.usearch'), 'the scores graph');
    writeFileSync(join(source, 'item-index.json'), '{"format":1}');
    await indexes.save(1, source, ['item-index.json', 'scores.usearch']);
  });
  afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));
  afterAll(async () => {
    rmSync(source, { recursive: true, force: true });
    await truncateStore(db);
    await Promise.all([db.end(), ds.destroy()]);
  });

  it('copies a version index into its own directory, leaving no partial copy beside it', async () => {
    const dir = await sut.dirOf(1, 'created-1');
    expect(dir).toBe(join(cacheDir, 'ann', 'v1'));
    expect(readFileSync(join(dir!, 'scores.usearch'), 'utf8')).toBe('the scores graph');
    expect(readdirSync(join(cacheDir, 'ann'))).toEqual(['v1']);
  });

  it('answers null for a version without an index', async () => {
    expect(await sut.dirOf(2, 'created-2')).toBeNull();
  });

  it('reuses a complete copy of the same stored index, and copies again over a half-written or foreign one', async () => {
    const dir = (await sut.dirOf(1, 'created-1'))!;
    // reused: a file changed locally stays as it is (same size), so no copy was made
    writeFileSync(join(dir, 'scores.usearch'), 'THE SCORES GRAPH');
    await sut.dirOf(1, 'created-1');
    expect(readFileSync(join(dir, 'scores.usearch'), 'utf8')).toBe('THE SCORES GRAPH');

    // a version 1 of another database (the numbers restarted): copied again
    await sut.dirOf(1, 'created-again');
    expect(readFileSync(join(dir, 'scores.usearch'), 'utf8')).toBe('the scores graph');

    // a directory cut short (a file missing or shorter than stored): copied again
    writeFileSync(join(dir, 'scores.usearch'), 'cut');
    await sut.dirOf(1, 'created-again');
    expect(readFileSync(join(dir, 'scores.usearch'), 'utf8')).toBe('the scores graph');
  });

  it('removes the copy of a version whose index is gone, and prunes copies of versions no longer servable', async () => {
    await sut.dirOf(1, 'created-1');
    await indexes.save(2, source, ['item-index.json']);
    await sut.dirOf(2, 'created-2');
    mkdirSync(join(cacheDir, 'ann', 'not-a-version'));
    expect(await sut.prune([2])).toEqual([1]);
    expect(readdirSync(join(cacheDir, 'ann')).sort()).toEqual(['not-a-version', 'v2']);

    await indexes.clear(2);
    expect(await sut.dirOf(2, 'created-2')).toBeNull();
    expect(readdirSync(join(cacheDir, 'ann'))).toEqual(['not-a-version']);
  });
});
