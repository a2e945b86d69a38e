import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { rm } from 'node:fs/promises';
import type { RedisClient } from '@app/redis';
import type { Pool } from 'pg';
import request from 'supertest';
import { ModelVersionRepository, TrainingLockRepository } from '@app/database';
import {
  activeKey,
  EmbeddingStoreRepository,
  kindPattern,
  metaKey,
  modelActivatedChannel,
  userKey,
  versionPattern,
} from '@app/embedding-store';
import { JobName, QueueName } from '@app/queue';
import { generateSynthetic } from '@app/synthetic';
import { gql, scanKeys } from '@app/testing';
import { LiveModelGate } from '../apps/jobs/src/training/live-model-gate';
import { TrainModelProcessor } from '../apps/jobs/src/training/train-model.processor';
import { TrainingService } from '../apps/jobs/src/training/training.service';
import { createTestJobsApp } from './create-test-jobs-app';
import { admin, TEST_EXPORT_DIR } from './test-env';
import { TestStack } from './test-stack';
import { startTraining, trainToCompletion, waitForTraining } from './train-through-api';

const QUICK = { epochs: 3, embeddingDim: 16, hidden: [32], batchSize: 50, patience: 0, seed: 4 };
const USERS = 300;
const RECS = `query R($u: ID!) { recommendations(userId: $u, limit: 5) { source modelVersion } }`;
const ACTIVATE = `mutation A($v: Int!) { activateModel(version: $v) { version status } }`;

/** The model lifecycle against retries, faults and a diverging Redis pointer, on real Postgres and Redis. */
describe('model lifecycle (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let jobs: NestFastifyApplication;
  let db: Pool;
  let redis: RedisClient;

  beforeAll(async () => {
    stack = await TestStack.start({ data: generateSynthetic({ users: USERS, items: 150, seed: 8, perUser: 15 }) });
    ({ api, db, redis } = stack);
    jobs = stack.jobs!;
  });
  afterAll(async () => {
    await stack.close();
    // the export asked for below: job ids start again in the next file, which must not find its files
    await rm(TEST_EXPORT_DIR, { recursive: true, force: true });
  });
  afterEach(() => jest.restoreAllMocks());

  const keysOf = async (version: number) => (await scanKeys(redis, versionPattern(version))).sort();
  const statusOf = async (version: number) =>
    (await db.query('SELECT status FROM model_versions WHERE version = $1', [version])).rows[0]?.status;
  const pointer = async () => Number(await redis.get(activeKey()));
  const jobIdOf = async (version: number) =>
    (await db.query('SELECT job_id FROM model_versions WHERE version = $1', [version])).rows[0].job_id as string;
  const servedVersion = async () => (await gql(api, RECS, { u: 'u1' })).data!.recommendations.modelVersion;
  async function until(what: string, probe: () => Promise<boolean>, seconds = 60): Promise<void> {
    for (let i = 0; i < seconds * 10; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('a retried job whose version is live finishes without resetting, deleting or republishing it', async () => {
    const { version } = await trainToCompletion(api, QUICK);
    const keys = await keysOf(version);
    const row = (await db.query('SELECT trained_at, activated_at FROM model_versions WHERE version = $1', [version]))
      .rows[0];
    expect(keys.length).toBeGreaterThan(USERS);

    // the processor run again for the same job id: what BullMQ does after a kill before it marked the job complete
    const result = await jobs.get(TrainingService).run(await jobIdOf(version), QUICK, true, () => Promise.resolve());
    expect(result).toMatchObject({ version, activated: true });
    expect(await statusOf(version)).toBe('ACTIVE');
    expect(await pointer()).toBe(version);
    expect(await keysOf(version)).toEqual(keys);
    expect(
      (await db.query('SELECT trained_at, activated_at FROM model_versions WHERE version = $1', [version])).rows[0],
    ).toEqual(row);
    expect((await db.query('SELECT count(*)::int AS n FROM model_versions')).rows[0].n).toBe(1);
  });

  it('a throw after promote (a blip recording timings): the retry finds the version live and leaves its keys, status and pointer', async () => {
    const versions = jobs.get(ModelVersionRepository);
    const update = versions.update.bind(versions);
    let blips = 1;
    jest.spyOn(versions, 'update').mockImplementation(async (version, fields) => {
      if ('timings' in fields && blips-- > 0) throw new Error('connection terminated unexpectedly');
      return update(version, fields);
    });
    const id = await startTraining(api, QUICK);
    const { version, status } = await waitForTraining(api, id, 120);
    expect(blips).toBeLessThan(1); // the fault did happen
    expect(status).toBe('ACTIVE');
    expect(await pointer()).toBe(version);
    expect(await scanKeys(redis, kindPattern(version, 'user'))).toHaveLength(USERS);
    expect(await redis.exists(metaKey(version))).toBe(1);
    const job = await api.get<Queue>(getQueueToken(QueueName.Training)).getJob(id);
    expect(job!.attemptsMade).toBeGreaterThanOrEqual(1);
  });

  it('a throw before the gate decided: the retry resumes at promote, without training or publishing again', async () => {
    const gate = jobs.get(LiveModelGate);
    const compare = gate.compare.bind(gate);
    let blips = 1;
    jest.spyOn(gate, 'compare').mockImplementation(async (...args) => {
      if (blips-- > 0) throw new Error('connection reset');
      return compare(...args);
    });
    const versions = jobs.get(ModelVersionRepository);
    const saveWeights = jest.spyOn(versions, 'saveWeights');
    const { version, status } = await trainToCompletion(api, QUICK);
    expect(blips).toBeLessThan(1);
    expect(status).toBe('ACTIVE');
    // weights were saved once: the retry did not train again
    expect(saveWeights.mock.calls.filter(([v]) => v === version)).toHaveLength(1);
    expect(await scanKeys(redis, kindPattern(version, 'user'))).toHaveLength(USERS);
    expect(await pointer()).toBe(version);
  });

  it('a publish that keeps failing leaves no READY version and no keys of it; the live version keeps its own', async () => {
    const live = await pointer();
    const liveKeys = await keysOf(live);
    const store = jobs.get(EmbeddingStoreRepository);
    jest.spyOn(store, 'writeMeta').mockRejectedValue(new Error("READONLY You can't write against a read only replica"));
    const statuses: string[] = [];
    const versions = jobs.get(ModelVersionRepository);
    const update = versions.update.bind(versions);
    jest.spyOn(versions, 'update').mockImplementation(async (version, fields) => {
      if (fields.status) statuses.push(String(fields.status));
      return update(version, fields);
    });
    const id = await startTraining(api, QUICK);
    await expect(waitForTraining(api, id, 180)).rejects.toThrow('READONLY');
    const { version } = (
      await gql(api, `query J($id: ID!) { trainingJob(id: $id) { modelVersion { version } } }`, { id }, admin)
    ).data!.trainingJob.modelVersion;
    expect(statuses).not.toContain('READY');
    expect(await statusOf(version)).toBe('FAILED');
    expect(await keysOf(version)).toEqual([]);
    expect(await pointer()).toBe(live);
    expect(await keysOf(live)).toEqual(liveKeys);
  });

  it('the API serves only the version Postgres calls ACTIVE, whatever the Redis pointer says; activateModel repairs the pointer', async () => {
    const live = await pointer();
    await until('the API to serve the live version', async () => (await servedVersion()) === live);
    const previous = (
      await db.query(
        `SELECT max(version) AS v FROM model_versions WHERE status IN ('READY', 'RETIRED') AND version < $1`,
        [live],
      )
    ).rows[0].v as number;
    // a pointer to another version (a switch whose Postgres write was undone, a stray SET) and its message
    await redis.set(activeKey(), String(previous));
    await redis.publish(modelActivatedChannel(), String(previous));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await servedVersion()).toBe(live);
    // every other default follows Postgres too: embeddings, maps, exports and the metric
    const vectors = await gql(api, `{ embeddings(ids: ["u1"], kind: USER) { version vectors { id } } }`);
    expect(vectors.data!.embeddings).toEqual({ version: live, vectors: [{ id: 'u1' }] });
    expect((await gql(api, `{ embeddingMap(ids: ["u1"], kind: USER) { version } }`)).data!.embeddingMap.version).toBe(
      live,
    );
    const exported = await gql(api, `mutation { exportEmbeddings(kind: ITEM, format: NDJSON) { version } }`, {}, admin);
    expect(exported.data!.exportEmbeddings.version).toBe(live);
    expect((await request(api.getHttpServer()).get('/metrics')).text).toMatch(
      new RegExp(`^recoder_active_model_version ${live}$`, 'm'),
    );

    const repaired = await gql(api, ACTIVATE, { v: live }, admin);
    expect(repaired.data!.activateModel).toEqual({ version: live, status: 'ACTIVE' });
    expect(await pointer()).toBe(live);
  });

  it('sweeps the keys of failed, interrupted and unknown versions at worker start; retention counts only complete versions', async () => {
    const live = await pointer();
    const liveKeys = await keysOf(live);
    const complete = (
      await db.query(`SELECT version FROM model_versions WHERE status IN ('READY', 'ACTIVE') ORDER BY version`)
    ).rows.map((r) => r.version as number);
    // a version whose worker was killed mid-publish (still TRAINING), one that failed while Redis was down, one Postgres never knew
    const interrupted = (
      await db.query(
        `INSERT INTO model_versions (status, job_id, config) VALUES ('TRAINING', 'killed', '{}') RETURNING version`,
      )
    ).rows[0].version as number;
    const failed = (
      await db.query(
        `INSERT INTO model_versions (status, job_id, config) VALUES ('FAILED', 'failed', '{}') RETURNING version`,
      )
    ).rows[0].version as number;
    for (const v of [interrupted, failed, 9999]) {
      await redis.hset(userKey(v, 'u1'), 'vec', Buffer.alloc(64));
      await redis.hset(metaKey(v), 'dim', '16');
    }
    const worker = await createTestJobsApp();
    try {
      for (const v of [interrupted, failed, 9999]) expect(await keysOf(v)).toEqual([]);
      expect(await keysOf(live)).toEqual(liveKeys);
      for (const v of complete) expect((await keysOf(v)).length).toBeGreaterThan(0);
    } finally {
      await worker.close();
    }
    // the next training keeps KEEP_VERSIONS (2) complete versions: the new one and the previous live one
    const { version: next } = await trainToCompletion(api, QUICK);
    const kept = (
      await db.query(`SELECT version FROM model_versions WHERE status IN ('READY', 'ACTIVE') ORDER BY version`)
    ).rows.map((r) => r.version);
    expect(kept).toEqual([live, next]);
    expect((await keysOf(live)).length).toBeGreaterThan(0);
  });

  it('one training at a time across workers: a job waits while another worker holds the training lock', async () => {
    const before = (await db.query('SELECT count(*)::int AS n FROM model_versions')).rows[0].n;
    const release = (await jobs.get(TrainingLockRepository).tryAcquire())!;
    expect(release).not.toBeNull();
    let released = false;
    try {
      const id = await startTraining(api, QUICK);
      const queue = api.get<Queue>(getQueueToken(QueueName.Training));
      await until('the job to be put back to wait', async () => (await queue.getJob(id))!.isDelayed());
      expect((await db.query('SELECT count(*)::int AS n FROM model_versions')).rows[0].n).toBe(before);
      await release();
      released = true;
      const { status } = await waitForTraining(api, id, 120);
      expect(status).toBe('ACTIVE');
      // it waited: no attempt was spent on it
      expect((await queue.getJob(id))!.attemptsMade).toBe(1);
    } finally {
      if (!released) await release();
    }
  });

  it('a scheduled retrain joins a queued manual one: one deduplication for both', async () => {
    const queue = api.get<Queue>(getQueueToken(QueueName.Training));
    const processor = jobs.get(TrainModelProcessor);
    await processor.worker.pause(); // the manual retrain stays queued
    const manual = await startTraining(api, QUICK);
    const tick = {
      name: JobName.ScheduledRetrain,
      data: { config: {}, force: false, requestedAt: 'schedule' },
    } as Parameters<TrainModelProcessor['process']>[0];
    expect(await processor.process(tick)).toEqual({ enqueued: manual });
    expect(await queue.getJobs(['waiting', 'delayed', 'active'])).toHaveLength(1);
  });
});
