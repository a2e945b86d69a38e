import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { getEnv } from '@app/config';
import { migrate } from '@app/database';
import { generateSynthetic } from '@app/synthetic';
import { importInteractionFile } from './copy-import';
import { ImportErrorCode } from './import-errors';
import { importSynthetic } from './synthetic-rows';

// a database of this file's own: never the demo database nor the shared test database
const DATABASE = `recoder_test_ingest_${process.pid}`;
// same server and credentials as the configured database, another name
const BASE_URL = getEnv().DATABASE_URL;

function databaseUrl(name: string): string {
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onAdminDatabase(sql: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe(importInteractionFile.name, () => {
  const url = databaseUrl(DATABASE);
  let pool: Pool;
  let dir: string;

  const file = (name: string, lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };
  const count = async (table: 'users' | 'items' | 'interactions') =>
    (await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;
  const counts = async () => ({
    users: await count('users'),
    items: await count('items'),
    interactions: await count('interactions'),
  });
  const stored = async () =>
    (
      await pool.query(`
        SELECT u.external_id AS user, i.external_id AS item, x.type, x.weight, extract(epoch FROM x.occurred_at)::float8 AS seconds
        FROM interactions x JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id
        ORDER BY 1, 2, 5`)
    ).rows;

  beforeAll(async () => {
    await onAdminDatabase(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await migrate(url);
    pool = new Pool({ connectionString: url, max: 3 });
    dir = mkdtempSync(join(tmpdir(), 'recoder-import-'));
  });

  afterAll(async () => {
    await pool?.end();
    rmSync(dir, { recursive: true, force: true });
    await onAdminDatabase(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  });

  beforeEach(async () => {
    await pool.query('TRUNCATE interactions, users, items RESTART IDENTITY CASCADE');
  });

  const small = () =>
    file('small.csv', [
      'user,item,weight,timestamp',
      'u1,i1,5,1700000000',
      'u1,i2,3,1700000001',
      'u2,i1,4,1700000002',
      'u3,i3,1,1700000003',
      'u2,i2,2,1700000004',
    ]);

  it('imports a small file with exact counts', async () => {
    const result = await importInteractionFile({ url, path: small(), format: 'csv' });
    expect(result).toMatchObject({ rows: 5, inserted: 5, duplicates: 0, users: 3, items: 3 });
    expect(await counts()).toEqual({ users: 3, items: 3, interactions: 5 });
    expect((await stored())[0]).toEqual({
      user: 'u1',
      item: 'i1',
      type: 'interaction',
      weight: 5,
      seconds: 1700000000,
    });
  });

  it('changes nothing when the same file is imported again', async () => {
    const path = small();
    await importInteractionFile({ url, path, format: 'csv' });
    const before = await stored();
    const again = await importInteractionFile({ url, path, format: 'csv' });
    expect(again).toMatchObject({ rows: 5, inserted: 0, duplicates: 5, users: 0, items: 0 });
    expect(await stored()).toEqual(before);
    expect(await counts()).toEqual({ users: 3, items: 3, interactions: 5 });
  });

  it('adds only the new rows of a file overlapping what is stored', async () => {
    await importInteractionFile({ url, path: small(), format: 'csv' });
    const overlapping = file('more.csv', [
      'user,item,weight,timestamp',
      'u9,i9,1,1700000100',
      'u1,i1,5,1700000000',
      'u1,i9,2,1700000101',
    ]);
    const result = await importInteractionFile({ url, path: overlapping, format: 'csv' });
    expect(result).toMatchObject({ rows: 3, inserted: 2, duplicates: 1, users: 1, items: 1 });
    expect(await counts()).toEqual({ users: 4, items: 4, interactions: 7 });
  });

  it('imports nothing when a line in the middle is malformed, and names the line', async () => {
    const lines = ['user,item,weight,timestamp'];
    for (let k = 0; k < 500; k++) lines.push(`u${k},i${k % 37},1,${1700000000 + k}`);
    lines.splice(251, 0, 'u1,i1,not-a-number,1700000000');
    const path = file('bad.csv', lines);
    await expect(importInteractionFile({ url, path, format: 'csv' })).rejects.toThrow(
      /^line 252: weight "not-a-number" must be a finite number$/,
    );
    expect(await counts()).toEqual({ users: 0, items: 0, interactions: 0 });
  });

  it('reads MovieLens 1M (:: separated) as ratings', async () => {
    const path = file('ratings.dat', ['1::1193::5::978300760', '1::661::3::978302109', '2::1193::4::978300761']);
    const result = await importInteractionFile({ url, path, format: 'movielens-1m' });
    expect(result).toMatchObject({ rows: 3, inserted: 3, users: 2, items: 2 });
    expect(await stored()).toEqual([
      { user: '1', item: '1193', type: 'rating', weight: 5, seconds: 978300760 },
      { user: '1', item: '661', type: 'rating', weight: 3, seconds: 978302109 },
      { user: '2', item: '1193', type: 'rating', weight: 4, seconds: 978300761 },
    ]);
  });

  it('reads csv with ISO timestamps, quotes and a given type', async () => {
    const path = file('iso.csv', [
      'user,item,weight,timestamp',
      '"a,b",x,2.5,2024-05-01T10:00:00Z',
      'c,x,1,2024-05-01T10:00:00.250+02:00',
    ]);
    const result = await importInteractionFile({ url, path, format: 'csv', type: 'purchase' });
    expect(result).toMatchObject({ rows: 2, inserted: 2 });
    expect(await stored()).toEqual([
      { user: 'a,b', item: 'x', type: 'purchase', weight: 2.5, seconds: Date.UTC(2024, 4, 1, 10) / 1000 },
      { user: 'c', item: 'x', type: 'purchase', weight: 1, seconds: Date.UTC(2024, 4, 1, 8, 0, 0, 250) / 1000 },
    ]);
  });

  it('gives rows without a timestamp a fixed one, so a re-import adds nothing', async () => {
    // u1,i1 twice: without timestamps they are the same interaction
    const path = file('no-time.csv', ['user,item', 'u1,i1', 'u1,i2', 'u1,i1', 'u2,i1']);
    const first = await importInteractionFile({ url, path, format: 'csv' });
    expect(first).toMatchObject({ rows: 4, inserted: 3, duplicates: 1 });
    const again = await importInteractionFile({ url, path, format: 'csv' });
    expect(again).toMatchObject({ rows: 4, inserted: 0, duplicates: 4 });
    expect(new Set((await stored()).map((r) => r.seconds))).toEqual(new Set([0]));
  });

  it('falls back to skipping conflicts when a timestamped file repeats a row', async () => {
    const path = file('repeat.csv', [
      'user,item,weight,timestamp',
      'u1,i1,1,1700000000',
      'u2,i1,1,1700000000',
      'u1,i1,1,1700000000',
    ]);
    const result = await importInteractionFile({ url, path, format: 'csv' });
    expect(result).toMatchObject({ rows: 3, inserted: 2, duplicates: 1 });
  });

  it('borrows a connection from a pool', async () => {
    const result = await importInteractionFile({ pool, path: small(), format: 'csv' });
    expect(result.inserted).toBe(5);
    // the pool is still usable after a failed import
    await expect(
      importInteractionFile({ pool, path: file('x.csv', ['user,item', 'u1']), format: 'csv' }),
    ).rejects.toThrow(/line 2/);
    expect(await count('interactions')).toBe(5);
  });

  it.each([
    [{ path: '/nonexistent/file.csv', format: 'csv' }, ImportErrorCode.FileNotFound],
    [{ path: __filename, format: 'parquet' }, ImportErrorCode.UnknownFormat],
    [{ path: __filename, format: 'csv', type: '' }, ImportErrorCode.InvalidType],
  ])('refuses %j before touching the database', async (options, code) => {
    await expect(importInteractionFile({ url, ...options })).rejects.toMatchObject({ code });
  });

  it('writes synthetic data through the same path, idempotently', async () => {
    const data = generateSynthetic({ users: 50, items: 40, seed: 3, perUser: 10 });
    const first = await importSynthetic({ url }, data);
    expect(first).toMatchObject({ rows: data.user.length, inserted: data.user.length, users: 50, items: 40 });
    const again = await importSynthetic({ url }, data);
    expect(again).toMatchObject({ inserted: 0, duplicates: data.user.length });
    const types = (await pool.query('SELECT DISTINCT type FROM interactions ORDER BY 1')).rows.map((r) => r.type);
    expect(types.every((t) => ['view', 'click', 'purchase'].includes(t))).toBe(true);
  });
});
