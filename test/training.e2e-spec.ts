import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import type { RedisClient } from '@app/redis';
import { JobName, QueueName, queuePrefix } from '@app/queue';
import { generateSynthetic } from '@app/synthetic';
import { firstErrorCode, gql, scanKeys } from '@app/testing';
import { createTestJobsApp } from './create-test-jobs-app';
import { TestStack } from './test-stack';
import { admin } from './test-env';
import { trainToCompletion } from './train-through-api';
import { activeKey, kindPattern, metaKey, userKey, versionPattern } from '@app/embedding-store';
const CONFIG = { epochs: 20, embeddingDim: 24, hidden: [64], seed: 3, patience: 0, batchSize: 50, learningRate: 3e-3 };
const RETRAIN = `mutation R($config: TrainingConfigInput, $force: Boolean) { retrain(config: $config, force: $force) { id state } }`;
const MODEL = `query M($v: Int) { model(version: $v) { version status users items interactions dataWatermark
  metrics { ndcg100 recall20 recall50 popularity { ndcg100 recall20 } } lossCurve { epoch loss ndcg } timings } }`;

describe('training pipeline (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let redis: RedisClient;
  const data = generateSynthetic({ users: 500, items: 300, seed: 11, perUser: 25, clusters: 8 });

  beforeAll(async () => {
    stack = await TestStack.start({ data });
    ({ api, redis } = stack);
  });
  afterAll(() => stack.close());

  const activeVersion = async () => Number(await redis.get(activeKey()));

  it('refuses retrain without the admin key and enqueues nothing', async () => {
    const res = await gql(api, RETRAIN, { config: CONFIG });
    expect(firstErrorCode(res)).toBe('UNAUTHENTICATED');
    expect(await scanKeys(redis, `${queuePrefix()}:training:[0-9]*`)).toEqual([]);
    expect(await redis.llen(`${queuePrefix()}:training:wait`)).toBe(0);
  });

  it('rejects a nonsense config with BAD_USER_INPUT naming the field', async () => {
    for (const config of [
      { epochs: -1 },
      { embeddingDim: 0 },
      { dropout: 1.5 },
      { loss: 'hinge' },
      { learningRate: 0 },
      { hidden: [8, 8, 8, 8, 8] },
      { hidden: [1] },
    ]) {
      const res = await gql(api, RETRAIN, { config }, admin);
      expect(firstErrorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toContain(`config.${Object.keys(config)[0]}`);
    }
  });

  it('trains, stores metrics beating popularity, publishes every user embedding and activates the first model', async () => {
    const v1 = await trainToCompletion(api, CONFIG, false);
    const res = await gql(api, MODEL, {}, admin);
    const model = res.data!.model;
    // the model knows the items someone interacted with
    const itemsSeen = new Set(data.item).size;
    expect(model).toMatchObject({
      version: v1.version,
      status: 'ACTIVE',
      users: 500,
      items: itemsSeen,
      interactions: data.user.length,
    });
    expect(model.metrics.ndcg100).toBeGreaterThan(model.metrics.popularity.ndcg100);
    expect(model.metrics.recall20).toBeGreaterThan(model.metrics.popularity.recall20);
    expect(model.lossCurve).toHaveLength(CONFIG.epochs);
    expect(model.lossCurve[CONFIG.epochs - 1].loss).toBeLessThan(model.lossCurve[0].loss);
    expect(Object.keys(model.timings).sort()).toEqual(['evaluate', 'load', 'promote', 'publish', 'train']);
    expect(await activeVersion()).toBe(v1.version);

    const userKeys = await scanKeys(redis, kindPattern(v1.version, 'user'));
    expect(userKeys).toHaveLength(500);
    const blob = await redis.hgetBuffer(userKey(v1.version, 'u0'), 'vec');
    expect(blob!.length).toBe(CONFIG.embeddingDim * 4);
    expect(await redis.hget(metaKey(v1.version), 'dim')).toBe(String(CONFIG.embeddingDim));
  });

  it('a second retrain takes over, the first version keys go after the third, activateModel rolls back', async () => {
    const first = await activeVersion();
    const v2 = await trainToCompletion(api, CONFIG, true);
    expect(await activeVersion()).toBe(v2.version);
    expect(await scanKeys(redis, versionPattern(first))).not.toHaveLength(0); // kept for rollback

    const v3 = await trainToCompletion(api, CONFIG, true);
    expect(await activeVersion()).toBe(v3.version);
    expect(await scanKeys(redis, versionPattern(first))).toEqual([]);
    const models = await gql(api, `{ models(limit: 10) { version status } }`, {}, admin);
    expect(models.data!.models).toEqual([
      { version: v3.version, status: 'ACTIVE' },
      { version: v2.version, status: 'READY' },
      { version: first, status: 'RETIRED' },
    ]);

    const rollback = await gql(api, `mutation { activateModel(version: ${v2.version}) { version status } }`, {}, admin);
    expect(rollback.data!.activateModel).toEqual({ version: v2.version, status: 'ACTIVE' });
    expect(await activeVersion()).toBe(v2.version);
    const gone = await gql(api, `mutation { activateModel(version: ${first}) { version } }`, {}, admin);
    expect(firstErrorCode(gone)).toBe('BAD_USER_INPUT');
    expect(await activeVersion()).toBe(v2.version);
  });

  it('retrains on TRAIN_CRON from the worker, and drops the schedule once TRAIN_CRON is unset', async () => {
    const scheduler = (app: NestFastifyApplication) =>
      app.get<Queue>(getQueueToken(QueueName.Training)).getJobScheduler('scheduled-retrain');
    const scheduled = await createTestJobsApp({ TRAIN_CRON: '0 3 * * *' });
    try {
      expect(await scheduler(scheduled)).toMatchObject({ pattern: '0 3 * * *', name: JobName.ScheduledRetrain });
    } finally {
      await scheduled.close();
      delete process.env.TRAIN_CRON;
    }
    const unscheduled = await createTestJobsApp();
    try {
      expect(await scheduler(unscheduled)).toBeFalsy();
    } finally {
      await unscheduled.close();
    }
  });
});
