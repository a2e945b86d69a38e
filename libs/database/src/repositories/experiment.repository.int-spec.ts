import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { testDatabase, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { ExperimentOutcome } from '../entities';
import { ExperimentConflict, ExperimentRepository } from './experiment.repository';

describe(`${ExperimentRepository.name} (Postgres)`, () => {
  let db: Pool;
  let ds: DataSource;
  let sut: ExperimentRepository;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    sut = new ExperimentRepository(ds);
  });
  beforeEach(async () => {
    await truncateStore(db);
    // v1 ACTIVE, v2 and v3 READY
    await db.query(
      `INSERT INTO model_versions (status, config) VALUES ('ACTIVE', '{}'), ('READY', '{}'), ('READY', '{}')`,
    );
  });
  afterAll(async () => {
    await truncateStore(db);
    await Promise.all([db.end(), ds.destroy()]);
  });

  const statuses = async () =>
    (await db.query('SELECT status FROM model_versions ORDER BY version')).rows.map(
      (r: { status: string }) => r.status,
    );

  it('lets one of two concurrent starts through and tells the other one why', async () => {
    const results = await Promise.allSettled([sut.start(1, 2, 0.5, 'a'), sut.start(1, 3, 0.5, 'b')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(refused.reason).toBeInstanceOf(ExperimentConflict);
    expect((await statuses()).filter((s) => s === 'CANARY')).toHaveLength(1);
    expect((await db.query('SELECT count(*)::int AS n FROM experiments')).rows[0].n).toBe(1);
  });

  it('refuses a canary that is not READY, or a control that is no longer ACTIVE, changing nothing', async () => {
    await expect(sut.start(1, 1, 0.5, 's')).rejects.toBeInstanceOf(ExperimentConflict);
    await expect(sut.start(3, 2, 0.5, 's')).rejects.toBeInstanceOf(ExperimentConflict);
    expect(await statuses()).toEqual(['ACTIVE', 'READY', 'READY']);
    expect(await sut.running()).toBeNull();
  });

  it('ends with the statuses of its outcome, in the same transaction as the row', async () => {
    await sut.start(1, 2, 0.2, 's');
    expect(await statuses()).toEqual(['ACTIVE', 'CANARY', 'READY']);
    const promoted = await sut.end(ExperimentOutcome.PROMOTED, 'promoted');
    expect(promoted).toMatchObject({ outcome: 'PROMOTED', canaryVersion: 2, controlVersion: 1 });
    expect(promoted!.endedAt).toBeInstanceOf(Date);
    expect(await statuses()).toEqual(['READY', 'ACTIVE', 'READY']);
    expect(await sut.end(ExperimentOutcome.ABORTED, 'again')).toBeNull();

    await sut.start(2, 3, 0.2, 't');
    expect(await sut.end(ExperimentOutcome.ABORTED, 'aborted')).toMatchObject({ outcome: 'ABORTED' });
    expect(await statuses()).toEqual(['READY', 'ACTIVE', 'READY']);
    expect((await sut.list(10)).map((e) => e.outcome)).toEqual(['ABORTED', 'PROMOTED']);
  });
});
