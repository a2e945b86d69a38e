import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { getEnv } from '@app/config';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { ErasureKeyMismatchError, ErasureRepository } from './erasure.repository';
import { currentSnapshot, inReadSnapshot } from './read-snapshot';

describe(`${ErasureRepository.name} (Postgres)`, () => {
  let db: Pool;
  let ds: DataSource;
  let sut: ErasureRepository;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    sut = new ErasureRepository(ds, getEnv());
  });
  beforeEach(() => truncateStore(db));
  afterAll(async () => {
    await Promise.all([db.end(), ds.destroy()]);
  });

  const addUser = (id: string) => db.query('INSERT INTO users (external_id) VALUES ($1)', [id]);
  const snapshotNow = () => inReadSnapshot(ds, currentSnapshot);

  it('erases the row, anomaly scores and owed flags, and logs a keyed hash, never the id', async () => {
    await addUser('carol');
    await addUser('dave');
    await db.query(`INSERT INTO stale_flags_owed (user_id) VALUES ('carol'), ('dave')`);
    expect(await sut.eraseUser('carol')).toMatchObject({ found: true });
    expect((await db.query(`SELECT external_id FROM users`)).rows).toEqual([{ external_id: 'dave' }]);
    expect((await db.query(`SELECT user_id FROM stale_flags_owed`)).rows).toEqual([{ user_id: 'dave' }]);
    const log = (await db.query(`SELECT id_hash FROM erasure_log`)).rows as { id_hash: Buffer }[];
    expect(log).toHaveLength(1);
    expect(log[0].id_hash).toEqual(await sut.idHash('carol'));
    expect(log[0].id_hash.includes(Buffer.from('carol'))).toBe(false);
    // the same id is one entry however often it is erased; a second erasure finds no user
    expect(await sut.eraseUser('carol')).toMatchObject({ found: false });
    expect((await db.query(`SELECT count(*)::int AS n FROM erasure_log`)).rows[0].n).toBe(1);
  });

  it('forgets entries older than any training runs', async () => {
    const aged = `INSERT INTO erasure_log (id_hash, key_id, erased_at) VALUES ($1, $1, now() - make_interval(days => $2))`;
    await db.query(aged, [Buffer.from([1]), 31]);
    await db.query(aged, [Buffer.from([2]), 29]);
    await sut.eraseUser('eve');
    const kept = (await db.query(`SELECT id_hash FROM erasure_log ORDER BY erased_at`)).rows.map((r) => r.id_hash);
    expect(kept).toEqual([Buffer.from([2]), await sut.idHash('eve')]);
  });

  it('names only the users erased after a snapshot was taken, among those asked about', async () => {
    for (const id of ['before', 'after', 'bystander']) await addUser(id);
    await sut.eraseUser('before');
    const snapshot = await snapshotNow();
    await sut.eraseUser('after');
    expect(await sut.erasedSince(snapshot, ['before', 'after', 'bystander'])).toEqual(new Set(['after']));
    // a later snapshot sees both erasures: a training that read it holds neither user
    expect(await sut.erasedSince(await snapshotNow(), ['before', 'after', 'bystander'])).toEqual(new Set());
  });

  /** This process's key id, as an erasure wrote it. */
  async function keyId(): Promise<Buffer> {
    await sut.eraseUser('someone-else');
    return (await db.query(`SELECT key_id FROM erasure_log`)).rows[0].key_id;
  }

  it('counts an erasure in flight when the snapshot was taken as one the snapshot does not see', async () => {
    const key = await keyId();
    const erasing = await db.connect();
    try {
      await erasing.query('BEGIN');
      await erasing.query(`INSERT INTO erasure_log (id_hash, key_id) VALUES ($1, $2)`, [await sut.idHash('slow'), key]);
      const snapshot = await snapshotNow();
      await erasing.query('COMMIT');
      expect(await sut.erasedSince(snapshot, ['slow'])).toEqual(new Set(['slow']));
    } finally {
      erasing.release();
    }
  });

  it('refuses to match entries hashed under another secret rather than miss them', async () => {
    const key = await keyId();
    const snapshot = await snapshotNow();
    const other = Buffer.from(key.map((b) => b ^ 0xff));
    await db.query(`INSERT INTO erasure_log (id_hash, key_id) VALUES ($1, $2)`, [
      Buffer.from('hashed elsewhere'),
      other,
    ]);
    await expect(sut.erasedSince(snapshot, ['u1'])).rejects.toThrow(ErasureKeyMismatchError);
  });
});
