/**
 * The training pipeline end to end on synthetic data shaped like MovieLens-1M (or bigger), on a
 * bench database and Redis db 12. JSON lines:
 *   load      interactions/s of the binary COPY into typed arrays, and the bytes they hold
 *   publish   embeddings/s written to Redis (dimension 200, pipelined)
 *   retrain   a real train job through BullMQ in the worker module: seconds per phase
 * npm run bench:retrain [-- --users 6040 --items 3706 --per-user 165 --epochs 5 --skip-retrain]
 */
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { createDataSource, ModelVersionRepository, TrainingDataRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { importSynthetic } from '@app/ingest';
import { JobName, queuePrefix, QueueName } from '@app/queue';
import { createRng } from '@app/random';
import { generateSynthetic } from '@app/synthetic';
import { parseFlags, runCli } from '../scripts/cli';
import { emit, freshDatabase } from './lib/api-process';

const REDIS_URL = 'redis://127.0.0.1:6379/12';
const PUBLISH_USERS = 100_000;
const DIM = 200;

const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

runCli(async (args) => {
  const flags = parseFlags(args, ['users', 'items', 'per-user', 'epochs', 'skip-retrain']);
  const users = Number(flags.users ?? 6040);
  const items = Number(flags.items ?? 3706);
  const perUser = Number(flags['per-user'] ?? 165);
  const epochs = Number(flags.epochs ?? 5);

  const url = await freshDatabase('recoder_bench_retrain');
  const data = generateSynthetic({ users, items, seed: 1, perUser });
  const imported = await importSynthetic({ url }, data);
  emit({ bench: 'retrain_setup', users, items, interactions: imported.rows, import_seconds: imported.seconds });

  const ds: DataSource = createDataSource(url);
  await ds.initialize();
  const redis = new Redis(REDIS_URL);
  try {
    await redis.flushdb();
    // load: the worker's first phase, alone
    global.gc?.();
    const rssBefore = rssMb();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 20);
    const started = performance.now();
    const loaded = await new TrainingDataRepository(ds).loadAll();
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, rssMb());
    const bytes = loaded.user.byteLength + loaded.item.byteLength + loaded.weight.byteLength;
    emit({
      bench: 'load',
      interactions: loaded.user.length,
      seconds: +seconds.toFixed(3),
      interactions_per_s: Math.round(loaded.user.length / seconds),
      typed_array_mb: +(bytes / 2 ** 20).toFixed(1),
      peak_rss_growth_mb: peak - rssBefore,
    });

    // publish: user embeddings of dimension 200 into Redis
    const store = new EmbeddingStoreRepository(redis);
    const rng = createRng(2);
    const vectors = Float32Array.from({ length: PUBLISH_USERS * DIM }, () => rng.normal());
    const ids = Array.from({ length: PUBLISH_USERS }, (_, u) => `u${u}`);
    const t0 = performance.now();
    await store.writeVectors(999_999, 'user', { ids, dim: DIM, vectors });
    const publishSeconds = (performance.now() - t0) / 1000;
    emit({
      bench: 'publish',
      embeddings: PUBLISH_USERS,
      dim: DIM,
      seconds: +publishSeconds.toFixed(3),
      embeddings_per_s: Math.round(PUBLISH_USERS / publishSeconds),
    });
    await store.deleteVersion(999_999);

    if (flags['skip-retrain'] !== 'true') await retrainThroughQueue(url, ds, epochs);
  } finally {
    await ds.destroy();
    redis.disconnect();
  }
  return undefined;
});

/** A real job through BullMQ, processed by the worker module in this process. */
async function retrainThroughQueue(url: string, ds: DataSource, epochs: number): Promise<void> {
  Object.assign(process.env, { DATABASE_URL: url, REDIS_URL, LOG_LEVEL: 'warn' });
  const { createJobsApp } = await import('../apps/jobs/src/create-jobs-app');
  const jobs = await createJobsApp();
  await jobs.init();
  const queue = new Queue(QueueName.Training, {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix: queuePrefix(),
  });
  try {
    const started = performance.now();
    const job = await queue.add(JobName.TrainModel, {
      config: { epochs, patience: 0 },
      force: true,
      requestedAt: new Date().toISOString(),
    });
    for (;;) {
      const state = await job.getState();
      if (state === 'completed') break;
      if (state === 'failed') throw new Error(`training failed: ${(await queue.getJob(job.id!))?.failedReason}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const seconds = (performance.now() - started) / 1000;
    const version = await new ModelVersionRepository(ds).findByJob(job.id!);
    emit({
      bench: 'retrain',
      epochs,
      seconds: +seconds.toFixed(2),
      phases: version?.timings,
      seconds_per_epoch: +((version?.timings.train ?? 0) / epochs).toFixed(2),
      backend: version?.backend,
      ndcg100: version?.metrics?.ndcg100,
      popularity_ndcg100: version?.metrics?.popularity?.ndcg100,
      peak_rss_mb: rssMb(),
    });
  } finally {
    await queue.close();
    await jobs.close();
  }
}
