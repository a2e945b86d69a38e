import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClient } from '@app/redis';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { validateEnv } from '@app/config';
import {
  AnomalyRepository,
  ExperimentRepository,
  InteractionRepository,
  ModelMetrics,
  ModelIndexRepository,
  ModelStatus,
  ModelVersionRepository,
} from '@app/database';
import { activeKey, EmbeddingStoreRepository } from '@app/embedding-store';
import { flushTestRedis, testDatabase, testRedis, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../../test/test-env';
import { ModelRegistryService } from './model-registry.service';

// the live version's stored figure was measured on other users than the candidate's: the gate compares
// the two models scored on the candidate's held-out users instead (QUALITY_TOLERANCE 0.02 by default)
describe(`${ModelRegistryService.name} quality gate (Postgres, Redis)`, () => {
  let db: Pool;
  let ds: DataSource;
  let redis: RedisClient;
  let versions: ModelVersionRepository;
  let sut: ModelRegistryService;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
    redis = testRedis(TEST_REDIS_URL);
    await truncateStore(db);
    await flushTestRedis(redis);
    versions = new ModelVersionRepository(ds);
    sut = new ModelRegistryService(
      versions,
      new EmbeddingStoreRepository(redis),
      new AnomalyRepository(ds),
      new InteractionRepository(ds),
      new ExperimentRepository(ds),
      validateEnv({}),
    );
  });
  afterAll(async () => {
    await truncateStore(db);
    await flushTestRedis(redis);
    await Promise.all([db.end(), ds.destroy()]);
    redis.disconnect();
  });

  let jobs = 0;
  /** A trained version with these metrics, as the training job leaves it before promotion. */
  async function trained(metrics: ModelMetrics) {
    const { version } = await versions.startForJob(`job-${++jobs}`, {});
    await versions.update(version, { metrics, status: ModelStatus.READY });
    return (await versions.find(version))!;
  }
  const figures = (ndcg100: number) => ({ ndcg100, recall20: 0, recall50: 0, heldOutUsers: 50 });
  const activeVersion = async () => (await versions.findActive())?.version;

  it('activates a candidate the live model trails on the same held-out users, though the live one stored a higher figure', async () => {
    const live = await trained(figures(0.5));
    expect(await sut.promote(live, false)).toMatchObject({ activated: true, reason: 'first model' });
    const candidate = await trained({
      ...figures(0.4),
      gate: { liveVersion: live.version, liveNdcg100: 0.39, candidateNdcg100: 0.4, users: 50 },
    });
    const result = await sut.promote(candidate, false);
    expect(result).toMatchObject({ activated: true });
    expect(result.reason).toContain(`v${live.version}'s 0.3900 on the same 50 held-out users`);
    expect(await activeVersion()).toBe(candidate.version);
    expect(await redis.get(activeKey())).toBe(String(candidate.version));
  });

  it('refuses a candidate the live model beats on the same held-out users, though the live one stored a lower figure', async () => {
    const live = (await versions.findActive())!;
    const candidate = await trained({
      ...figures(0.6),
      gate: { liveVersion: live.version, liveNdcg100: 0.7, candidateNdcg100: 0.6, users: 50 },
    });
    const result = await sut.promote(candidate, false);
    expect(result.activated).toBe(false);
    expect(result.reason).toContain(`worse than the active v${live.version}'s 0.7000 on the same 50 held-out users`);
    expect(await activeVersion()).toBe(live.version);
    expect((await versions.find(candidate.version))!.error).toContain('0.7000');
  });

  it('compares the stored figures when the live model was not scored, or another version went live since it was', async () => {
    const live = (await versions.findActive())!; // stored 0.4
    const unscored = await trained(figures(0.3));
    expect(await sut.promote(unscored, false)).toMatchObject({ activated: false });
    const stale = await trained({
      ...figures(0.3),
      gate: { liveVersion: unscored.version, liveNdcg100: 0.1, candidateNdcg100: 0.3, users: 50 },
    });
    const result = await sut.promote(stale, false);
    expect(result).toMatchObject({ activated: false });
    expect(result.reason).toContain(`v${live.version}'s 0.4000 as stored`);
    expect(await activeVersion()).toBe(live.version);
  });

  it('deletes the approximate index of a version retention retires, and of unfinished versions at the sweep', async () => {
    const indexes = new ModelIndexRepository(ds);
    const dir = mkdtempSync(join(tmpdir(), 'recoder-registry-spec-'));
    try {
      writeFileSync(join(dir, 'scores.usearch'), Buffer.from('an index'));
      const indexed = async (v: number) => (await indexes.files(v)).length > 0;
      // KEEP_VERSIONS 2: of three forced versions with an index, the oldest is retired
      const promoted: number[] = [];
      for (let i = 0; i < 3; i++) {
        const v = await trained(figures(0.5));
        await indexes.save(v.version, dir, ['scores.usearch']);
        await sut.promote(v, true);
        promoted.push(v.version);
      }
      expect((await versions.find(promoted[0]))!.status).toBe(ModelStatus.RETIRED);
      expect(await indexed(promoted[0])).toBe(false);
      expect(await indexed(promoted[1])).toBe(true);
      expect(await indexed(promoted[2])).toBe(true);

      // a training whose worker died after storing its index: the sweep removes it with the weights
      const { version: died } = await versions.startForJob(`job-${++jobs}`, {});
      await indexes.save(died, dir, ['scores.usearch']);
      await sut.sweepLeftovers();
      expect(await indexed(died)).toBe(false);
      expect(await indexed(promoted[2])).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
