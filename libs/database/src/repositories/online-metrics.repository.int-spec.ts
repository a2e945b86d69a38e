import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { ImpressionRepository, weekOf } from './impression.repository';
import { OnlineMetricsRepository } from './online-metrics.repository';

describe(`${OnlineMetricsRepository.name} (Postgres)`, () => {
  let db: Pool;
  let ds: DataSource;
  let sut: OnlineMetricsRepository;
  let impressions: ImpressionRepository;
  const HOUR = 3_600_000;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    sut = new OnlineMetricsRepository(ds);
    impressions = new ImpressionRepository(ds);
  });
  beforeEach(async () => {
    await truncateStore(db);
    await db.query(`INSERT INTO items (external_id) VALUES ('a'), ('b')`);
  });
  afterAll(async () => {
    await Promise.all([db.end(), ds.destroy()]);
  });

  const count = (version: number, hour: string, unit: number, measure: string, n: number) => ({
    version,
    hour: new Date(hour),
    unit,
    measure,
    count: n,
  });

  it('adds counts to the stored ones, and reads them per hour, per UTC day and per unit of one version', async () => {
    await sut.add([
      count(1, '2026-12-07T10:00:00Z', 3, 'answers', 2),
      count(1, '2026-12-07T11:00:00Z', 3, 'answers', 1),
      count(1, '2026-12-08T00:00:00Z', 5, 'answers', 4),
      count(2, '2026-12-07T10:00:00Z', 3, 'answers', 9),
    ]);
    // two processes' flushes of the same counters at once: both are kept
    await Promise.all([
      sut.add([count(1, '2026-12-07T10:00:00Z', 3, 'answers', 1)]),
      sut.add([count(1, '2026-12-07T10:00:00Z', 3, 'answers', 1)]),
    ]);
    const from = new Date('2026-12-07T00:00:00Z');
    const to = new Date('2026-12-09T00:00:00Z');
    expect(await sut.byBucket(1, from, to, 'hour')).toEqual([
      { bucket: new Date('2026-12-07T10:00:00Z'), measure: 'answers', count: 4 },
      { bucket: new Date('2026-12-07T11:00:00Z'), measure: 'answers', count: 1 },
      { bucket: new Date('2026-12-08T00:00:00Z'), measure: 'answers', count: 4 },
    ]);
    expect(await sut.byBucket(1, from, to, 'day')).toEqual([
      { bucket: new Date('2026-12-07T00:00:00Z'), measure: 'answers', count: 5 },
      { bucket: new Date('2026-12-08T00:00:00Z'), measure: 'answers', count: 4 },
    ]);
    // the range's end is exclusive
    expect(await sut.byBucket(1, from, new Date('2026-12-08T00:00:00Z'), 'day')).toHaveLength(1);
    const units = await sut.byUnit(1, from, to);
    expect(units.sort((a, b) => a.unit - b.unit)).toEqual([
      { unit: 3, measure: 'answers', count: 5 },
      { unit: 5, measure: 'answers', count: 4 },
    ]);
  });

  it('finds an impression within the window before an event, across a week boundary, and none outside it', async () => {
    // shown late on a Sunday, clicked 30 minutes later on the Monday: two weeks' roll-ups
    const shown = new Date('2026-12-13T23:50:00Z');
    await impressions.add([
      { userId: 'u1', itemId: 'a', week: weekOf(shown), shows: 1, firstShown: shown, lastShown: shown },
    ]);
    const at = (minutes: number) => new Date(shown.getTime() + minutes * 60_000);
    expect(
      await sut.shownWithin(
        [
          { userId: 'u1', itemId: 'a', at: at(30) }, // within an hour, the next week
          { userId: 'u1', itemId: 'a', at: at(90) }, // past the window
          { userId: 'u1', itemId: 'a', at: at(-5) }, // before it was shown
          { userId: 'u1', itemId: 'b', at: at(30) }, // another item
          { userId: 'u2', itemId: 'a', at: at(30) }, // another user
          { userId: 'u1', itemId: 'a', at: at(59) }, // within, listed after others
        ],
        HOUR,
      ),
    ).toEqual([true, false, false, false, false, true]);
  });
});
