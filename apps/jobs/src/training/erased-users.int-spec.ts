import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { getEnv } from '@app/config';
import { AnomalyRepository, currentSnapshot, ErasureRepository, inReadSnapshot } from '@app/database';
import { testDatabase } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { leaveOutErased, unpublishErased } from './erased-users';
import { storeForVersions, untrainedModelOn } from './publish.fixture';
import { publishUsers } from './publish-users';

// a training holds users erased after it read its data: it must publish none of them
describe('publishing around erasures (Postgres, Redis)', () => {
  const VERSION = 9201;
  const stored = storeForVersions([VERSION]);
  let db: Pool;
  let ds: DataSource;
  let erasures: ErasureRepository;
  let anomalies: AnomalyRepository;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    erasures = new ErasureRepository(ds, getEnv());
    anomalies = new AnomalyRepository(ds);
    await db.query(`DELETE FROM model_versions WHERE version = $1`, [VERSION]);
    await db.query(`INSERT INTO model_versions (version, status, config) VALUES ($1, 'TRAINING', '{}')`, [VERSION]);
  });
  afterAll(async () => {
    await db.query(`DELETE FROM model_versions WHERE version = $1`, [VERSION]);
    await db.query(`TRUNCATE erasure_log`);
    await Promise.all([db.end(), ds.destroy()]);
  });

  const snapshotNow = () => inReadSnapshot(ds, currentSnapshot);

  it('leaves out users erased before publishing, and removes those erased while it published', async () => {
    const { userIds, matrix, model } = untrainedModelOn({ items: 60, dataSeed: 8, modelSeed: 3 });
    const snapshot = await snapshotNow();
    await erasures.eraseUser('u5');
    const published = await leaveOutErased(erasures, snapshot, { matrix, userIds });
    expect(published.userIds).toHaveLength(userIds.length - 1);
    expect(published.userIds).not.toContain('u5');
    // the rows follow their ids: u6's row is the one it had
    const row = (m: typeof matrix, r: number) => Array.from(m.indices.subarray(m.indptr[r], m.indptr[r + 1]));
    expect(row(published.matrix, published.userIds.indexOf('u6'))).toEqual(row(matrix, userIds.indexOf('u6')));

    try {
      await publishUsers(stored.store, VERSION, model, published.matrix, published.userIds, 5);
    } finally {
      model.dispose();
    }
    await anomalies.replaceForVersion(VERSION, published.userIds, new Float32Array(published.userIds.length).fill(1));
    // erased while the version was written: its hash and score were written after the erasure cleared Redis
    await erasures.eraseUser('u9');
    const deps = { erasures, store: stored.store, anomalies };
    expect(await unpublishErased(deps, VERSION, snapshot, published.userIds)).toBe(1);
    expect(await stored.store.readUsers(VERSION, ['u5', 'u9', 'u10'])).toEqual([null, null, expect.anything()]);
    expect(await anomalies.find(VERSION, 'u9')).toBeNull();
    expect(await anomalies.find(VERSION, 'u10')).not.toBeNull();
  });
});
