import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { ImpressionRepository, weekOf } from './impression.repository';

describe(`${ImpressionRepository.name} (Postgres)`, () => {
  let db: Pool;
  let ds: DataSource;
  let sut: ImpressionRepository;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    sut = new ImpressionRepository(ds);
  });
  beforeEach(async () => {
    await truncateStore(db);
    await db.query(`INSERT INTO items (external_id) VALUES ('a'), ('b')`);
  });
  afterAll(async () => {
    await Promise.all([db.end(), ds.destroy()]);
  });

  const partitions = async () =>
    (
      await db.query(
        `SELECT c.relname AS name FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
         JOIN pg_class p ON p.oid = h.inhparent WHERE p.relname = 'impressions' ORDER BY 1`,
      )
    ).rows.map((r: { name: string }) => r.name);
  const row = (userId: string, itemId: string, at: string, shows = 1) => ({
    userId,
    itemId,
    week: weekOf(new Date(at)),
    shows,
    firstShown: new Date(at),
    lastShown: new Date(at),
  });

  it('names a week by its Monday (UTC)', () => {
    expect(weekOf(new Date('2026-12-07T00:00:00Z'))).toBe('2026-12-07'); // a Monday
    expect(weekOf(new Date('2026-12-13T23:59:59Z'))).toBe('2026-12-07'); // its Sunday
    expect(weekOf(new Date('2026-12-14T00:00:00Z'))).toBe('2026-12-14');
    expect(weekOf(new Date('2027-01-01T12:00:00Z'))).toBe('2026-12-28');
  });

  it('sums shows of a (user, item, week) across writes, widens first and last, creates users and partitions', async () => {
    await sut.add([row('u1', 'a', '2026-12-08T10:00:00Z', 2), row('u1', 'b', '2026-12-08T10:00:00Z')]);
    await sut.add([row('u1', 'a', '2026-12-09T10:00:00Z'), row('u1', 'a', '2026-12-01T10:00:00Z')]);
    const { rows } = await db.query(
      `SELECT i.external_id AS item, x.week::text AS week, x.shows, x.first_shown, x.last_shown
       FROM impressions x JOIN items i ON i.id = x.item_id ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      {
        item: 'a',
        week: '2026-11-30',
        shows: 1,
        first_shown: new Date('2026-12-01T10:00:00Z'),
        last_shown: new Date('2026-12-01T10:00:00Z'),
      },
      {
        item: 'a',
        week: '2026-12-07',
        shows: 3,
        first_shown: new Date('2026-12-08T10:00:00Z'),
        last_shown: new Date('2026-12-09T10:00:00Z'),
      },
      {
        item: 'b',
        week: '2026-12-07',
        shows: 1,
        first_shown: new Date('2026-12-08T10:00:00Z'),
        last_shown: new Date('2026-12-08T10:00:00Z'),
      },
    ]);
    // the week of Nov 30 goes to November's partition
    expect(await partitions()).toEqual(expect.arrayContaining(['impressions_p202611', 'impressions_p202612']));
    const recent = await sut.recentOf('u1', new Date('2026-12-05T00:00:00Z'));
    expect(recent.map((r) => [r.item, r.shows]).sort()).toEqual([
      ['a', 3],
      ['b', 1],
    ]);
    expect(
      await sut.usersShownAtLeast(
        [
          { userId: 'u1', itemId: 'a' },
          { userId: 'u1', itemId: 'b' },
        ],
        4,
        new Date('2026-11-01'),
      ),
    ).toEqual(['u1']);
    expect(await sut.usersShownAtLeast([{ userId: 'u1', itemId: 'a' }], 4, new Date('2026-12-05'))).toEqual([]);
  });

  it('drops the partitions whose every week is older than the cutoff, and only those', async () => {
    await sut.add([
      row('u1', 'a', '2026-10-14T10:00:00Z'),
      row('u1', 'a', '2026-11-10T10:00:00Z'),
      row('u1', 'a', '2026-12-08T10:00:00Z'),
    ]);
    // November's last week begins Nov 30: a cutoff in December's first week keeps November
    expect(await sut.dropBefore(new Date('2026-12-03T00:00:00Z'))).toEqual(['impressions_p202610']);
    expect(await sut.dropBefore(new Date('2026-12-08T00:00:00Z'))).toEqual(['impressions_p202611']);
    expect((await db.query(`SELECT week::text AS week FROM impressions`)).rows).toEqual([{ week: '2026-12-07' }]);
    // a dropped month is made again when rows for it come
    await sut.add([row('u1', 'a', '2026-10-14T10:00:00Z')]);
    expect(await partitions()).toContain('impressions_p202610');
  });
});
