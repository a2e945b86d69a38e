import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { ModelIndexRepository } from './model-index.repository';

describe(`${ModelIndexRepository.name} (Postgres)`, () => {
  let db: Pool;
  let ds: DataSource;
  let sut: ModelIndexRepository;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'recoder-index-spec-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    sut = new ModelIndexRepository(ds);
  });
  beforeEach(async () => {
    await truncateStore(db);
    await db.query(`INSERT INTO model_versions (status, config) VALUES ('READY', '{}'), ('READY', '{}')`);
  });
  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await truncateStore(db);
    await Promise.all([db.end(), ds.destroy()]);
  });

  /** Bytes no two chunks share, so a chunk out of order or missing changes the file. */
  const pattern = (bytes: number, seed: number) => {
    const out = Buffer.allocUnsafe(bytes);
    for (let i = 0; i < bytes; i++) out[i] = (i * 31 + (i >> 20) * 7 + seed) & 255;
    return out;
  };

  it('gives back the files it stored, byte for byte, a file larger than one chunk included', async () => {
    const from = tempDir();
    const big = pattern(32 * 2 ** 20 + 12345, 1); // two chunks
    const small = pattern(1000, 2);
    writeFileSync(join(from, 'scores.usearch'), big);
    writeFileSync(join(from, 'cosines.usearch'), small);
    writeFileSync(join(from, 'empty.json'), Buffer.alloc(0));

    expect(await sut.save(1, from, ['scores.usearch', 'cosines.usearch', 'empty.json'])).toBe(big.length + 1000);
    const chunks = await db.query(
      `SELECT file, count(*)::int AS n FROM model_index_chunks GROUP BY file ORDER BY file`,
    );
    expect(chunks.rows).toEqual([
      { file: 'cosines.usearch', n: 1 },
      { file: 'empty.json', n: 1 },
      { file: 'scores.usearch', n: 2 },
    ]);

    const to = tempDir();
    const copied = await sut.copyTo(1, to);
    expect(copied).toEqual([
      { file: 'cosines.usearch', bytes: 1000 },
      { file: 'empty.json', bytes: 0 },
      { file: 'scores.usearch', bytes: big.length },
    ]);
    expect(readdirSync(to).sort()).toEqual(['cosines.usearch', 'empty.json', 'scores.usearch']);
    expect(readFileSync(join(to, 'scores.usearch')).equals(big)).toBe(true);
    expect(readFileSync(join(to, 'cosines.usearch')).equals(small)).toBe(true);
    expect(await sut.files(1)).toEqual(copied);
  });

  it('answers null for a version without an index, and writes nothing', async () => {
    const to = tempDir();
    expect(await sut.copyTo(2, to)).toBeNull();
    expect(await sut.files(2)).toEqual([]);
    expect(readdirSync(to)).toEqual([]);
  });

  it('replaces what a version had; a save that fails midway leaves the previous index as it was', async () => {
    const from = tempDir();
    writeFileSync(join(from, 'a.usearch'), pattern(100, 3));
    await sut.save(1, from, ['a.usearch']);
    // the second file is missing: the transaction rolls back
    writeFileSync(join(from, 'b.usearch'), pattern(50, 4));
    await expect(sut.save(1, from, ['b.usearch', 'missing.usearch'])).rejects.toThrow();
    expect(await sut.files(1)).toEqual([{ file: 'a.usearch', bytes: 100 }]);

    await sut.save(1, from, ['b.usearch']);
    expect(await sut.files(1)).toEqual([{ file: 'b.usearch', bytes: 50 }]);
  });

  it('refuses a file name that is not a plain name', async () => {
    await expect(sut.save(1, tempDir(), ['../escape'])).rejects.toThrow(/not an index file name/);
  });

  it('deletes a version index, every other but the kept ones, and with its version row', async () => {
    const from = tempDir();
    writeFileSync(join(from, 'a.usearch'), pattern(10, 5));
    await db.query(`INSERT INTO model_versions (status, config) VALUES ('FAILED', '{}')`);
    for (const v of [1, 2, 3]) await sut.save(v, from, ['a.usearch']);

    expect(await sut.clearAllBut([1])).toEqual([2, 3]);
    expect(await sut.files(2)).toEqual([]);
    expect(await sut.files(1)).toHaveLength(1);
    await sut.clear(1);
    expect(await sut.files(1)).toEqual([]);

    await sut.save(2, from, ['a.usearch']);
    await db.query(`DELETE FROM model_versions WHERE version = 2`);
    expect((await db.query(`SELECT count(*)::int AS n FROM model_index_chunks`)).rows[0].n).toBe(0);
  });
});
