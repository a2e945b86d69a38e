import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { FeedbackRole } from '@app/feedback';
import { buildInteractionMatrix, normalizedInput } from '@app/model';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { FeedbackTypeRepository } from './feedback-type.repository';
import { TrainingDataRepository } from './training-data.repository';

const DAY = 24 * 60 * 60 * 1000;

describe(`${TrainingDataRepository.name} reads the model's input under the event types' rules (Postgres)`, () => {
  let db: Pool;
  let ds: DataSource;
  let sut: TrainingDataRepository;
  let types: FeedbackTypeRepository;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    sut = new TrainingDataRepository(ds);
    types = new FeedbackTypeRepository(ds);
    await truncateStore(db);
    const daysAgo = (d: number) => new Date(Date.now() - d * DAY);
    const events: [string, string, string, number, Date][] = [
      ['u1', 'viewed', 'view', 1, daysAgo(0)],
      ['u1', 'bought', 'view', 1, daysAgo(0)],
      ['u1', 'bought', 'purchase', 1, daysAgo(0)],
      ['u1', 'loved', 'rating', 5, daysAgo(0)],
      ['u1', 'meh', 'rating', 3, daysAgo(0)],
      ['u1', 'hated', 'rating', 1, daysAgo(0)],
      ['u1', 'shown', 'impression', 1, daysAgo(0)],
      ['u1', 'older', 'view', 1, daysAgo(10)],
      ['u1', 'ancient', 'view', 1, daysAgo(40)],
      // a user whose events are none of them input is no row of the model
      ['u2', 'viewed', 'dislike', 1, daysAgo(0)],
    ];
    await db.query(`INSERT INTO users (external_id) SELECT DISTINCT unnest($1::text[])`, [events.map((e) => e[0])]);
    await db.query(`INSERT INTO items (external_id) SELECT DISTINCT unnest($1::text[])`, [events.map((e) => e[1])]);
    await db.query(
      `INSERT INTO interactions (user_id, item_id, type, weight, occurred_at)
       SELECT u.id, i.id, t.type, t.weight, t.at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::real[], $5::timestamptz[]) AS t(u, i, type, weight, at)
       JOIN users u ON u.external_id = t.u JOIN items i ON i.external_id = t.i`,
      [
        events.map((e) => e[0]),
        events.map((e) => e[1]),
        events.map((e) => e[2]),
        events.map((e) => e[3]),
        events.map((e) => e[4]),
      ],
    );
    await types.set({ type: 'purchase', role: FeedbackRole.POSITIVE, weight: 3, conditions: [] });
    await types.set({
      type: 'rating',
      role: FeedbackRole.IGNORED,
      weight: 1,
      conditions: [
        { role: FeedbackRole.POSITIVE, min: 4, max: null },
        { role: FeedbackRole.NEGATIVE, min: null, max: 2 },
      ],
    });
    await types.set({ type: 'impression', role: FeedbackRole.IMPRESSION, weight: 1, conditions: [] });
    await types.set({ type: 'dislike', role: FeedbackRole.NEGATIVE, weight: 1, conditions: [] });
  });
  afterAll(async () => {
    await db.end();
    await ds.destroy();
  });

  /** u1's row of the matrix a training builds, by item id. */
  async function inputOfU1(settings?: Parameters<TrainingDataRepository['loadAll']>[0]) {
    const data = await sut.loadAll(settings);
    const { matrix, users, items } = buildInteractionMatrix({ ...data, duplicates: 'max' });
    const r = users.indexOf('u1')!;
    const row: Record<string, number> = {};
    for (let k = matrix.indptr[r]; k < matrix.indptr[r + 1]; k++) row[items.idAt(matrix.indices[k])] = matrix.values[k];
    return { data, row, users, matrix, r };
  }

  it("keeps POSITIVE events only, each at its type's weight times its own (the largest of an item's)", async () => {
    const { data, row, users } = await inputOfU1();
    expect(row).toEqual({ viewed: 1, bought: 3, loved: 5, older: 1, ancient: 1 });
    expect(users.ids()).toEqual(['u1']);
    expect(data.events).toBe(10);
    expect(data.rulesRevision).toBe((await types.rules()).revision);
  });

  it('reads stored events under the rules as they are now: a changed weight changes the matrix', async () => {
    await types.set({ type: 'purchase', role: FeedbackRole.POSITIVE, weight: 7, conditions: [] });
    try {
      const { row, matrix, r } = await inputOfU1();
      expect(row.bought).toBe(7);
      // the weighted input sees the weights (L2-normalised per row); the binary one counts every item 1
      const weighted = normalizedInput(matrix, 'weighted').subarray(matrix.indptr[r], matrix.indptr[r + 1]);
      const binary = normalizedInput(matrix, 'binary').subarray(matrix.indptr[r], matrix.indptr[r + 1]);
      expect(new Set(binary).size).toBe(1);
      expect(Math.max(...weighted) / Math.min(...weighted)).toBeCloseTo(7, 5);
    } finally {
      await types.set({ type: 'purchase', role: FeedbackRole.POSITIVE, weight: 3, conditions: [] });
    }
  });

  it('halves values every half-life and leaves out events older than the retention window', async () => {
    const { row } = await inputOfU1({ halfLifeDays: 10, retentionDays: 30 });
    expect(Object.keys(row).sort()).toEqual(['bought', 'loved', 'older', 'viewed']);
    expect(row.bought).toBeCloseTo(3, 4);
    expect(row.older).toBeCloseTo(0.5, 4);
  });
});
