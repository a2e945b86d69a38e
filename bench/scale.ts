/**
 * The whole pipeline at a large catalogue (issue #35): 1,000,000 items, 200,000 users, 20M
 * synthetic interactions with latent structure, trained and published by the real worker, served
 * by the real API, each query beside the trivial one in the same run; and a 20,000-item peer on
 * its own database and Redis db, whose exact fold-in rate the large catalogue's is compared with.
 * JSON lines:
 *   scale_features   whether this checkout has the approximate item index and sampled training
 *   scale_generate / scale_copy / scale_train / scale_publish / scale_activated   setup, per catalogue
 *   scale_redis      bytes per user and per item hash in Redis
 *   scale_api        the API's start and RSS once the model is loaded
 *   scale_recall     recall@100 of the API's answers against the exact ranking computed here
 *   scale_serve      a query's req/s, p50, p99, ratio to the trivial query, CPU per request
 *   scale_acceptance / scale_sizing   the figures issue #35 asks for, from the lines above
 * npm run bench:scale [-- --items 1000000 --users 200000 --interactions 20000000 --epochs 1
 *   --connections 32 --seconds 30 --rounds 3 --recall-sample 200 --peer-items 20000 --scoring-threads N
 *   --warm-users 20000
 *   --setup-only | --reuse]
 * --setup-only stops after the setup (the long part); --reuse measures what an earlier setup left.
 * The cached `recommendations` ask the first --warm-users users, each answered once before (their
 * first answers, which read the feedback state from Postgres, are `recommendations_first_answer`).
 * Each catalogue has its database and Redis db: recoder_bench_scale (db 10) and
 * recoder_bench_scale_20k (db 11) for the peer (--peer-items 0: no peer). The worker and the API
 * inherit this process's environment: ANN_MIN_ITEMS, SAMPLED_TRAINING_MIN_ITEMS and the like apply.
 */
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { availableParallelism } from 'node:os';
import { Client } from 'pg';
import { EnvVars } from '@app/config';
import { createDataSource, ModelIndexRepository, ModelStatus, ModelVersionRepository } from '@app/database';
import { EmbeddingStoreRepository, itemKey, SIMILAR_FIELD, userKey } from '@app/embedding-store';
import * as modelLibrary from '@app/model';
import { deserializeModel, initBackend, rowsFromItemLists, DaeModel } from '@app/model';
import { JobName, queuePrefix, QueueName } from '@app/queue';
import { createRng, Rng } from '@app/random';
import { generateSynthetic, SyntheticInteractions, syntheticUserId, withEveryItem } from '@app/synthetic';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { cpuSeconds, emit, freshDatabase, memoryMb, startApi, startWorker } from './lib/api-process';
import { copySyntheticFresh } from './lib/copy-synthetic';
import { firstAnswers } from './lib/first-answers';
import { Body, combine, expectModelServing, median, pairedRounds, PairedRounds } from './lib/load-rounds';

/** What the setup measured, kept in the catalogue's Redis db so a --reuse run can still size from it. */
const SETUP_KEY = 'bench:scale:setup';
const RECALL_K = 100;
/** Users whose histories feed fold-ins and sessions. */
const HISTORY_SAMPLE = 2000;
const SESSION_ITEMS = 3;
const FOLD_IN_ITEMS = 10;

interface Catalogue {
  name: 'main' | 'peer';
  users: number;
  items: number;
  interactions: number;
  database: string;
  redisUrl: string;
  /** The worker's settings beyond this process's environment. */
  env: Record<string, string>;
}

interface SetupFigures {
  interactions: number;
  seconds_per_epoch: number[];
  cpu_seconds_per_epoch: number[];
  worker_peak_rss_mb: number;
  /** The worker's VmHWM when training's last epoch ended (load and epochs; not evaluation, index, publish). */
  training_peak_rss_mb: number;
  /** The worker's VmHWM at the end of each phase. */
  peak_rss_mb_through: Record<string, number>;
  publish_seconds: number;
  publish_cpu_seconds: number;
  width: number;
  timings: Record<string, number>;
  /** The item index stored with the version (0: none, the exact path). */
  index_bytes: number;
  /** The worker's CPU from the index phase's start to the publish phase's (0 without an index). */
  index_cpu_seconds: number;
}

runCli(async (args) => {
  const flags = parseFlags(args, [
    'items',
    'users',
    'interactions',
    'epochs',
    'connections',
    'seconds',
    'rounds',
    'recall-sample',
    'peer-items',
    'scoring-threads',
    'warm-users',
    'setup-only',
    'reuse',
  ]);
  const items = Number(flags.items ?? 1_000_000);
  const users = Number(flags.users ?? 200_000);
  const interactions = Number(flags.interactions ?? 20_000_000);
  const peerItems = Number(flags['peer-items'] ?? 20_000);
  const rounds = Number(flags.rounds ?? 3);
  if (![items, users, interactions, rounds].every((n) => Number.isInteger(n) && n > 0) || !(peerItems >= 0))
    throw new UsageError('--items, --users, --interactions and --rounds must be positive integers');
  const load = {
    seconds: Number(flags.seconds ?? 30),
    rounds,
    connections: Number(flags.connections ?? 32),
  };
  const main: Catalogue = {
    name: 'main',
    users,
    items,
    interactions,
    database: 'recoder_bench_scale',
    redisUrl: 'redis://127.0.0.1:6379/10',
    env: {},
  };
  // the peer: the same users' habits over a 20,000-item catalogue, a tenth of the users
  const peerUsers = Math.max(1000, Math.round(users / 10));
  const peer: Catalogue | null = peerItems
    ? {
        name: 'peer',
        users: peerUsers,
        items: peerItems,
        interactions: Math.round((interactions / users) * peerUsers),
        database: 'recoder_bench_scale_20k',
        redisUrl: 'redis://127.0.0.1:6379/11',
        // the exact path, as every catalogue of this size is served today, whatever ANN_MIN_ITEMS says
        env: { ANN_MIN_ITEMS: '0' },
      }
    : null;
  const epochs = Number(flags.epochs ?? 1);
  emit({ bench: 'scale_features', ...features() });

  if (flags.reuse === undefined) {
    for (const catalogue of peer ? [peer, main] : [main]) await setUp(catalogue, epochs);
  }
  if (flags['setup-only'] !== undefined) return undefined;

  const scoringThreads = flags['scoring-threads'] ?? String(availableParallelism());
  const recallSample = Number(flags['recall-sample'] ?? 200);
  const warmUsers = Math.min(users, Number(flags['warm-users'] ?? 20_000));
  if (!(Number.isInteger(warmUsers) && warmUsers > 0)) throw new UsageError('--warm-users must be a positive integer');
  const mainFigures = await measure(main, { ...load, scoringThreads, recallSample, port: 3950, warmUsers }, true);
  const peerFigures =
    peer && (await measure(peer, { ...load, scoringThreads, recallSample: 0, port: 3951, warmUsers }, false));
  acceptance(main, mainFigures, peer, peerFigures);
  return undefined;
});

/** Which parts of issue #35 this checkout has: measured either way, said so rather than failing. */
function features(): Record<string, unknown> {
  const env = new EnvVars() as unknown as Record<string, unknown>;
  const setting = (name: string) => (name in env ? (process.env[name] ?? env[name]) : null);
  return {
    ann_index: 'ItemIndex' in modelLibrary,
    ann_min_items: setting('ANN_MIN_ITEMS'),
    sampled_training: 'SAMPLED_TRAINING_MIN_ITEMS' in env,
    sampled_training_min_items: setting('SAMPLED_TRAINING_MIN_ITEMS'),
  };
}

async function setUp(catalogue: Catalogue, epochs: number): Promise<void> {
  const { name, users, items } = catalogue;
  let started = performance.now();
  // every item drawn at least once: the model then holds the whole catalogue
  let data: SyntheticInteractions | null = withEveryItem(
    generateSynthetic({ users, items, seed: 1, perUser: catalogue.interactions / users }),
    2,
  );
  emit({
    bench: 'scale_generate',
    catalogue: name,
    users,
    items,
    interactions: data.user.length,
    seconds: seconds(started),
    rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
  });
  started = performance.now();
  const url = await freshDatabase(catalogue.database);
  const copied = await copySyntheticFresh(url, data, (rows) => {
    if (rows % 2_000_000 < 50_000) process.stderr.write(`copied ${rows} interactions\n`);
  });
  emit({ bench: 'scale_copy', catalogue: name, ...copied, rows_per_s: Math.round(copied.rows / copied.seconds) });
  const rows = data.user.length;
  // the worker reads what it trains on from Postgres: the generator's arrays can go
  data = null;

  const redis = new Redis(catalogue.redisUrl);
  try {
    await redis.flushdb();
    const figures = await trainThroughWorker(url, catalogue, epochs, rows);
    await redis.set(SETUP_KEY, JSON.stringify(figures));
  } finally {
    redis.disconnect();
  }
}

/**
 * The real training job through BullMQ, processed by the jobs app in its own process: its epochs
 * (seconds and CPU from the job's progress), its peak RSS (VmHWM) and its publish.
 */
async function trainThroughWorker(
  url: string,
  catalogue: Catalogue,
  epochs: number,
  interactions: number,
): Promise<SetupFigures> {
  const worker = startWorker({
    DATABASE_URL: url,
    REDIS_URL: catalogue.redisUrl,
    JOBS_PORT: '3962',
    TRAIN_EPOCHS: String(epochs),
    // an epoch at 1M items may hold the event loop for minutes between lock renewals
    TRAINING_LOCK_MS: String(60 * 60_000),
    ...catalogue.env,
  });
  const queue = new Queue(QueueName.Training, {
    connection: new Redis(catalogue.redisUrl, { maxRetriesPerRequest: null }),
    prefix: queuePrefix(),
  });
  const ds = createDataSource(url);
  await ds.initialize();
  try {
    const started = performance.now();
    const added = await queue.add(JobName.TrainModel, {
      config: { epochs, patience: 0 },
      force: true,
      requestedAt: new Date().toISOString(),
    });
    // CPU at each change of phase or epoch: what each cost the worker
    // and the worker's peak RSS so far (VmHWM): at the mark after training, training's own peak
    const marks: Array<{ phase: string; epoch: number; cpu: number; at: number; peakRss: number }> = [];
    let peakRss = 0;
    for (;;) {
      const job = await queue.getJob(added.id!);
      const state = await job?.getState();
      const progress = (job?.progress ?? {}) as { phase?: string; epoch?: number };
      if (state === 'failed') throw new Error(`training failed: ${job?.failedReason}`);
      if (state === 'completed') break;
      const last = marks[marks.length - 1];
      const phase = progress.phase ?? 'queued';
      if (!last || last.phase !== phase || last.epoch !== (progress.epoch ?? 0)) {
        marks.push({
          phase,
          epoch: progress.epoch ?? 0,
          cpu: cpuSeconds(worker.pid),
          at: performance.now(),
          peakRss: memoryMb(worker.pid).VmHWM,
        });
        process.stderr.write(`${catalogue.name}: ${phase}${progress.epoch ? ` epoch ${progress.epoch}` : ''}\n`);
      }
      peakRss = memoryMb(worker.pid).VmHWM;
      await new Promise((r) => setTimeout(r, 500));
    }
    const end = { cpu: cpuSeconds(worker.pid), at: performance.now() };
    peakRss = Math.max(peakRss, memoryMb(worker.pid).VmHWM);
    const version = await new ModelVersionRepository(ds).findByJob(added.id!);
    if (!version) throw new Error('the training job left no model version');
    // an epoch's CPU: from the mark before its report (the previous epoch's; the first epoch's
    // includes the load, which reports only its start) to its report
    const cpuPerEpoch = marks.flatMap((m, i) =>
      m.phase === 'train' && i > 0 ? [+(m.cpu - marks[i - 1].cpu).toFixed(1)] : [],
    );
    const publishFrom = marks.find((m) => m.phase === 'publish');
    const publishTo = marks.find((m) => m.phase === 'promote') ?? end;
    const indexFrom = marks.find((m) => m.phase === 'index');
    // the job's peak up to the end of each phase: polled every 500 ms, so each may include the
    // next phase's first half-second (an upper bound)
    const peakRssThrough: Record<string, number> = {};
    marks.forEach((m, i) => {
      if (i > 0) peakRssThrough[marks[i - 1].phase] = m.peakRss;
    });
    peakRssThrough[marks[marks.length - 1]?.phase ?? 'queued'] = peakRss;
    const indexFiles = await new ModelIndexRepository(ds).files(version.version);
    const config = version.config as { embeddingDim?: number; sampledNegatives?: number };
    const figures: SetupFigures = {
      interactions,
      seconds_per_epoch: version.lossCurve.map((e) => +e.seconds.toFixed(1)),
      cpu_seconds_per_epoch: cpuPerEpoch,
      worker_peak_rss_mb: peakRss,
      training_peak_rss_mb: peakRssThrough.train ?? peakRss,
      peak_rss_mb_through: peakRssThrough,
      publish_seconds: version.timings.publish ?? 0,
      publish_cpu_seconds: publishFrom ? +(publishTo.cpu - publishFrom.cpu).toFixed(1) : 0,
      width: config.embeddingDim ?? 0,
      timings: version.timings,
      index_bytes: indexFiles.reduce((n, f) => n + Number(f.bytes), 0),
      index_cpu_seconds: indexFrom ? +((publishFrom ?? end).cpu - indexFrom.cpu).toFixed(1) : 0,
    };
    const common = { bench: 'scale_train', catalogue: catalogue.name, users: version.users, items: version.items };
    emit({
      ...common,
      interactions,
      epochs: version.lossCurve.length,
      width: figures.width,
      config,
      seconds_per_epoch: figures.seconds_per_epoch,
      cpu_seconds_per_epoch: figures.cpu_seconds_per_epoch,
      worker_peak_rss_mb: peakRss,
      training_peak_rss_mb: figures.training_peak_rss_mb,
      peak_rss_mb_through: peakRssThrough,
      ndcg100: version.metrics?.ndcg100,
      popularity_ndcg100: version.metrics?.popularity?.ndcg100,
    });
    emit({
      ...common,
      bench: 'scale_publish',
      seconds: figures.publish_seconds,
      cpu_seconds: figures.publish_cpu_seconds,
      // every phase the job timed (`index`: the item index's build and storage)
      timings: version.timings,
      index_files: indexFiles,
      index_mb: +(figures.index_bytes / 2 ** 20).toFixed(1),
    });
    emit({
      bench: 'scale_activated',
      catalogue: catalogue.name,
      version: version.version,
      status: version.status,
      job_seconds: seconds(started),
      worker_cpu_seconds: +end.cpu.toFixed(1),
    });
    if (version.status !== ModelStatus.ACTIVE)
      throw new Error(`v${version.version} ended ${version.status}, not ACTIVE`);
    return figures;
  } finally {
    await queue.close();
    await ds.destroy();
    await worker.stop();
  }
}

interface MeasureOptions {
  seconds: number;
  rounds: number;
  connections: number;
  scoringThreads: string;
  recallSample: number;
  port: number;
  /** Users answered once before the rounds, whom the cached query asks. */
  warmUsers: number;
}

interface MeasuredFigures {
  serve: Map<string, PairedRounds>;
  setup: SetupFigures | null;
  redis: { bytes_per_user: number; bytes_per_item: number; used_memory_mb: number };
  apiRssMb: number;
  recall: Record<string, number>;
  /** Items in the model: those anyone interacted with. */
  modelItems: number;
}

/** The API on one catalogue: its memory, then recall (main only), then each query's rounds. */
async function measure(catalogue: Catalogue, options: MeasureOptions, everyQuery: boolean): Promise<MeasuredFigures> {
  const url = `postgres://postgres@127.0.0.1:5432/${catalogue.database}`;
  const redis = new Redis(catalogue.redisUrl);
  const store = new EmbeddingStoreRepository(redis);
  const version = await store.activeVersion();
  if (version === null) throw new UsageError(`${catalogue.redisUrl} has no active model: run with --setup-only first`);
  const meta = (await store.readMeta(version))!;
  // the model holds the items anyone interacted with: at most the catalogue
  if (meta.items > catalogue.items || meta.users > catalogue.users)
    throw new UsageError(
      `${catalogue.redisUrl} holds a model of ${meta.users} users x ${meta.items} items, not of ${catalogue.users} x ${catalogue.items}: run --setup-only for this shape`,
    );
  const setup = JSON.parse((await redis.get(SETUP_KEY)) ?? 'null') as SetupFigures | null;
  const rng = createRng(9);
  const histories = await sampleHistories(url, catalogue.users, rng);
  const redisFigures = await redisBytes(redis, version, catalogue, rng);
  emit({ bench: 'scale_redis', catalogue: catalogue.name, version, ...redisFigures });

  const started = performance.now();
  const api = await startApi({
    DATABASE_URL: url,
    REDIS_URL: catalogue.redisUrl,
    PORT: String(options.port),
    SCORING_THREADS: options.scoringThreads,
  });
  const serve = new Map<string, PairedRounds>();
  let recallAnswers: RecallAnswers | null = null;
  let apiRssMb = 0;
  try {
    // at 1M items each scoring thread loads and lays out the layers: minutes (278 s on 2 cores)
    await expectModelServing(`${api.url}/graphql`, histories[0].user, 1200);
    const memory = memoryMb(api.pid);
    apiRssMb = memory.VmRSS;
    emit({
      bench: 'scale_api',
      catalogue: catalogue.name,
      items: catalogue.items,
      model_items: meta.items,
      ready_seconds: seconds(started),
      scoring_threads: Number(options.scoringThreads),
      rss_mb: memory.VmRSS,
      // file-backed pages (a memory-mapped index) are shared by every process that maps them
      rss_anon_mb: memory.RssAnon,
      rss_file_mb: memory.RssFile,
      peak_rss_mb: memory.VmHWM,
    });
    const similarPool = await itemsWithoutPrecomputedList(redis, version, catalogue.items, rng);
    if (options.recallSample > 0)
      recallAnswers = await askForRecall(api.url, redis, version, histories, similarPool, options.recallSample, rng);

    const pick = <T>(list: readonly T[]) => list[rng.int(list.length)];
    const foldInItems = () => shuffled(pick(histories).items, rng).slice(0, FOLD_IN_ITEMS);
    let staleCursor = 0;
    let similarCursor = 0;
    const userIds = Array.from({ length: catalogue.users }, (_, u) => syntheticUserId(u));
    const staleOrder = shuffled(userIds, rng);
    const queries: Array<[string, Body, (() => Promise<void>)?]> = [
      [
        'recommendations_for_items',
        () => ({
          query: `query S($ids: [ID!]!) { recommendationsForItems(itemIds: $ids, limit: 20) { items { score item { id } } } }`,
          variables: { ids: foldInItems() },
        }),
      ],
    ];
    if (everyQuery)
      queries.push(
        [
          // a returning user with a published list: one Redis read, no decode (most of a product's traffic)
          'recommendations',
          () => ({
            query: `query R($u: ID!) { recommendations(userId: $u, limit: 20) { source items { score item { id } } } }`,
            variables: { u: userIds[rng.int(options.warmUsers)] },
          }),
        ],
        [
          // an anonymous visitor's last few items: the schema's session is recommendationsForItems
          'session',
          () => ({
            query: `query S($ids: [ID!]!) { recommendationsForItems(itemIds: $ids, limit: 20) { items { score item { id } } } }`,
            variables: { ids: shuffled(pick(histories).items, rng).slice(0, SESSION_ITEMS) },
          }),
        ],
        [
          // a user who just acted: flagged stale, their history read and folded in, a decode each
          'recommendations_stale',
          () => ({
            query: `query R($u: ID!) { recommendations(userId: $u, limit: 20) { source items { score item { id } } } }`,
            variables: { u: staleOrder[staleCursor++ % staleOrder.length] },
          }),
          () => store.markUsersStale(version, userIds),
        ],
        [
          // items outside the precomputed set, none asked twice: each a comparison with the catalogue
          'similar_items',
          () => ({
            query: `query S($id: ID!) { similarItems(itemId: $id, limit: 20) { items { score item { id } } } }`,
            variables: { id: similarPool[similarCursor++ % similarPool.length] },
          }),
        ],
      );
    if (everyQuery)
      // a user's first answer reads their feedback state from Postgres; then the cached query's users are warm
      emit({
        bench: 'scale_serve',
        catalogue: catalogue.name,
        items: catalogue.items,
        users: catalogue.users,
        ...(await firstAnswers(api, catalogue.redisUrl, options.warmUsers)),
      });
    for (const [name, body, beforeEach] of queries) {
      const asked = { stale: staleCursor, similar: similarCursor };
      const rounds = await pairedRounds(api, body, { ...options, beforeEach });
      serve.set(name, rounds);
      emit({
        bench: 'scale_serve',
        catalogue: catalogue.name,
        query: name,
        items: catalogue.items,
        model_items: meta.items,
        users: catalogue.users,
        connections: options.connections,
        seconds: options.seconds,
        rounds: options.rounds,
        ...combine(rounds.runs.map((run) => run.query)),
        ratio_to_trivial: median(rounds.ratios),
        round_ratios: rounds.ratios,
        round_p99_ms: rounds.runs.map((run) => run.query.p99_ms),
        // what the request thread did besides answering, each round: GC pauses, event-loop delay
        round_main_thread: rounds.runs.map((run) => run.query.main_thread),
        trivial: combine(rounds.runs.map((run) => run.trivial)),
        // the API process, all threads: what one answer costs the replica
        cpu_ms_per_request: median(rounds.runs.map((run) => +run.query.cpu_ms_per_request.toFixed(3))),
        // how many distinct users or items were asked: past the pool's size some were asked again
        ...(name === 'recommendations_stale' && { asked: staleCursor - asked.stale, pool: staleOrder.length }),
        ...(name === 'similar_items' && { asked: similarCursor - asked.similar, pool: similarPool.length }),
      });
    }
    emit({ bench: 'scale_api', catalogue: catalogue.name, after: 'load', ...memoryMb(api.pid) });
  } finally {
    await api.stop();
    redis.disconnect();
  }
  const recall = recallAnswers ? await exactRecall(url, version, recallAnswers) : {};
  return { serve, setup, redis: redisFigures, apiRssMb, recall, modelItems: meta.items };
}

/** Random users' histories (item ids) as Postgres holds them: what fold-ins and sessions are made of. */
async function sampleHistories(
  url: string,
  users: number,
  rng: Rng,
): Promise<Array<{ user: string; items: string[] }>> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const ids = Array.from({ length: Math.min(users, HISTORY_SAMPLE) }, () => 1 + rng.int(users));
    const { rows } = await pg.query<{ user: string; items: string[] }>(
      `SELECT u.external_id AS user, array_agg(i.external_id) AS items
       FROM interactions x JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id
       WHERE x.user_id = ANY($1) GROUP BY u.external_id`,
      [ids],
    );
    if (!rows.length) throw new UsageError(`${url} holds no interactions: run with --setup-only first`);
    return rows;
  } finally {
    await pg.end();
  }
}

/** Bytes a user's and an item's hash take (MEMORY USAGE over a sample), and the db's total. */
async function redisBytes(redis: Redis, version: number, catalogue: Catalogue, rng: Rng) {
  const sample = async (key: (i: number) => string, count: number) => {
    const pipe = redis.pipeline();
    for (let n = 0; n < 500; n++) pipe.memory('USAGE', key(rng.int(count)), 'SAMPLES', '0');
    const sizes = ((await pipe.exec()) ?? []).map(([, size]) => Number(size ?? 0)).filter((s) => s > 0);
    return Math.round(sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length));
  };
  const info = await redis.info('memory');
  return {
    bytes_per_user: await sample((u) => userKey(version, syntheticUserId(u)), catalogue.users),
    bytes_per_item: await sample((i) => itemKey(version, `i${i}`), catalogue.items),
    used_memory_mb: Math.round(Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 2 ** 20),
    keys: await redis.dbsize(),
  };
}

/**
 * Items of the model (a hash in Redis) the publish precomputed no similar list for, a sample in
 * random order: each asks for a comparison with the catalogue. Items outside the model would be
 * answered by popularity.
 */
async function itemsWithoutPrecomputedList(redis: Redis, version: number, items: number, rng: Rng): Promise<string[]> {
  const ids = Array.from(new Set(Array.from({ length: Math.min(items, 50_000) }, () => `i${rng.int(items)}`)));
  const pipe = redis.pipeline();
  for (const id of ids) pipe.exists(itemKey(version, id)).hexists(itemKey(version, id), SIMILAR_FIELD);
  const replies = ((await pipe.exec()) ?? []).map(([, found]) => found === 1);
  return ids.filter((_, n) => replies[2 * n] && !replies[2 * n + 1]);
}

/** What recall is measured on: the API's answers, and what the exact ranking needs to rank the same questions. */
interface RecallAnswers {
  /** Users with a published list (and the vector and seen items it was ranked from). */
  users: Array<{ vector: Float32Array; seen: ArrayLike<number>; answer: Answer }>;
  /** Fold-ins of a real history's items (ids). */
  sessions: Array<{ ids: string[]; answer: Answer }>;
  /** Items outside the precomputed set. */
  similar: Array<{ id: string; answer: Answer }>;
}

/**
 * The API's answers recall@100 is measured on, asked as previews (no exposure): users' published
 * lists, fold-ins of real histories, and similar items outside the precomputed set. Ranked exactly
 * by exactRecall once the API has stopped: the bench's exact model (the layers, their tensors and
 * a quantised copy, ~7 GB at 1M items) beside the API (13.6 GB) left 1.6 GB of 24 GB, and the
 * API's sockets were closed under it.
 */
async function askForRecall(
  apiUrl: string,
  redis: Redis,
  version: number,
  histories: Array<{ user: string; items: string[] }>,
  similarPool: string[],
  sample: number,
  rng: Rng,
): Promise<RecallAnswers> {
  const users = histories.slice(0, sample).map((h) => h.user);
  const states = await new EmbeddingStoreRepository(redis).readUserStates(version, users);
  const cached = users.flatMap((user, n) => {
    const state = states[n].user;
    return state?.seen ? [{ user, vector: state.vector, seen: state.seen }] : [];
  });
  const sessions = histories.slice(0, sample).map((h) => shuffled(h.items, rng).slice(0, FOLD_IN_ITEMS));
  // similar items: the pool's last items, which the load rounds reach last
  const items = similarPool.slice(-sample);
  return {
    users: await Promise.all(
      cached.map(async ({ user, vector, seen }) => ({
        vector,
        seen,
        answer: await ask(
          apiUrl,
          `query R($u: ID!) { recommendations(userId: $u, limit: ${RECALL_K}, preview: true) { items { score item { id } } } }`,
          { u: user },
        ),
      })),
    ),
    sessions: await Promise.all(
      sessions.map(async (ids) => ({
        ids,
        answer: await ask(
          apiUrl,
          `query S($ids: [ID!]!) { recommendationsForItems(itemIds: $ids, limit: ${RECALL_K}, preview: true) { items { score item { id } } } }`,
          { ids },
        ),
      })),
    ),
    similar: await Promise.all(
      items.map(async (id) => ({
        id,
        answer: await ask(
          apiUrl,
          `query S($id: ID!) { similarItems(itemId: $id, limit: ${RECALL_K}, preview: true) { items { score item { id } } } }`,
          { id },
        ),
      })),
    ),
  };
}

/**
 * Recall@100 of askForRecall's answers against the exact ranking, computed here from the version's
 * weights without any index (the model's own exact rank).
 */
async function exactRecall(url: string, version: number, asked: RecallAnswers): Promise<Record<string, number>> {
  await initBackend();
  const ds = createDataSource(url);
  await ds.initialize();
  const blob = await new ModelVersionRepository(ds).weights(version);
  await ds.destroy();
  const { model, itemIds } = deserializeModel(blob!);
  const index = new Map(itemIds.map((id, i) => [id, i]));
  const out: Record<string, number> = {};
  const k = { k: RECALL_K };
  const measured = (what: string, answers: Answer[], exact: Exact) => {
    emitRecall(what, answers, exact, itemIds, index);
    out[what] = recallOf(answers, exact, itemIds);
  };
  try {
    // users: the list publish ranked, against an exact decode of the published vector
    if (asked.users.length)
      measured(
        'users',
        asked.users.map((u) => u.answer),
        model.rank(
          { embeddings: concat(asked.users.map((u) => u.vector)), histories: asked.users.map((u) => u.seen) },
          asked.users.map((u) => ({ ...k, exclude: u.seen })),
        ),
      );
    // fold-ins: a real user's items, as recommendationsForItems folds them in
    const lists = asked.sessions.map((s) => s.ids.map((id) => index.get(id)!).filter((i) => i !== undefined));
    if (lists.length)
      measured(
        'recommendations_for_items',
        asked.sessions.map((s) => s.answer),
        model.rank(
          { rows: rowsFromItemLists(model.config.items, lists) },
          lists.map((list) => ({ ...k, exclude: list })),
        ),
      );
    const indices = asked.similar.map((s) => index.get(s.id)!);
    if (indices.length)
      measured(
        'similar_items',
        asked.similar.map((s) => s.answer),
        model.rankSimilar(
          indices,
          indices.map((i) => ({ ...k, exclude: [i] })),
        ),
      );
  } finally {
    model.dispose();
  }
  return out;
}

type Answer = Array<{ score: number; item: { id: string } }>;

async function ask(apiUrl: string, query: string, variables: object): Promise<Answer> {
  const res = (await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  }).then((r) => r.json())) as { data?: Record<string, { items: Answer }>; errors?: unknown };
  if (!res.data) throw new Error(`the API refused ${query}: ${JSON.stringify(res.errors)}`);
  return Object.values(res.data)[0].items;
}

type Exact = ReturnType<DaeModel['rank']>;

function recallOf(answers: Answer[], exact: Exact, itemIds: readonly string[]): number {
  const recalls = answers.map((answer, r) => {
    const truth = new Set(Array.from(exact[r].items, (i) => itemIds[i]));
    return answer.filter((s) => truth.has(s.item.id)).length / Math.max(1, truth.size);
  });
  return +(recalls.reduce((a, b) => a + b, 0) / Math.max(1, recalls.length)).toFixed(4);
}

/** Recall@100, its worst row, and the largest score difference on items both lists hold (the model's scores: 0). */
function emitRecall(
  what: string,
  answers: Answer[],
  exact: Exact,
  itemIds: readonly string[],
  index: Map<string, number>,
): void {
  let worst = 1;
  let scoreDiff = 0;
  answers.forEach((answer, r) => {
    const truth = new Map(Array.from(exact[r].items, (i, n) => [i, exact[r].scores[n]]));
    const found = answer.filter((s) => truth.has(index.get(s.item.id)!));
    worst = Math.min(worst, found.length / Math.max(1, truth.size));
    for (const s of found) scoreDiff = Math.max(scoreDiff, Math.abs(s.score - truth.get(index.get(s.item.id)!)!));
  });
  emit({
    bench: 'scale_recall',
    query: what,
    k: RECALL_K,
    rows: answers.length,
    recall: recallOf(answers, exact, itemIds),
    worst_row: +worst.toFixed(2),
    max_score_difference: scoreDiff,
  });
}

/** Issue #35's acceptance figures and the per-unit costs a sizing table is computed from. */
function acceptance(
  catalogue: Catalogue,
  main: MeasuredFigures,
  peer: Catalogue | null,
  peerFigures: MeasuredFigures | null,
): void {
  const rate = (f: MeasuredFigures | null, q: string) => {
    const rounds = f?.serve.get(q);
    return rounds ? combine(rounds.runs.map((r) => r.query)) : null;
  };
  const cpuMs = (q: string) => {
    const rounds = main.serve.get(q);
    return rounds ? median(rounds.runs.map((r) => +r.query.cpu_ms_per_request.toFixed(3))) : null;
  };
  const foldIn = rate(main, 'recommendations_for_items');
  const peerFoldIn = rate(peerFigures, 'recommendations_for_items');
  emit({
    bench: 'scale_acceptance',
    items: catalogue.items,
    model_items: main.modelItems,
    p99_ms: Object.fromEntries(
      ['recommendations_for_items', 'session', 'recommendations_stale', 'similar_items'].map((q) => [
        q,
        rate(main, q)?.p99_ms ?? null,
      ]),
    ),
    fold_in_req_per_s: foldIn?.req_per_s ?? null,
    peer_items: peer?.items ?? null,
    peer_model_items: peerFigures?.modelItems ?? null,
    peer_fold_in_req_per_s: peerFoldIn?.req_per_s ?? null,
    fold_in_ratio_to_peer: foldIn && peerFoldIn ? +(foldIn.req_per_s / peerFoldIn.req_per_s).toFixed(3) : null,
    recall_at_100: main.recall,
    seconds_per_epoch: main.setup?.seconds_per_epoch ?? null,
    // training alone (load and epochs), then the whole job (index and publishing's scoring threads too)
    training_peak_rss_mb: main.setup?.training_peak_rss_mb ?? null,
    worker_peak_rss_mb: main.setup?.worker_peak_rss_mb ?? null,
    publish_seconds: main.setup?.publish_seconds ?? null,
    // the item index is built and stored before users are published: part of what a publish costs
    publish_with_index_seconds: main.setup
      ? +(main.setup.publish_seconds + (main.setup.timings.index ?? 0)).toFixed(1)
      : null,
  });
  const setup = main.setup;
  emit({
    bench: 'scale_sizing',
    users: catalogue.users,
    items: catalogue.items,
    model_items: main.modelItems,
    interactions: setup?.interactions ?? null,
    width: setup?.width ?? null,
    redis_bytes_per_user: main.redis.bytes_per_user,
    redis_bytes_per_item: main.redis.bytes_per_item,
    redis_used_memory_mb: main.redis.used_memory_mb,
    api_rss_mb: main.apiRssMb,
    cpu_ms_per_request: Object.fromEntries(
      ['recommendations', 'recommendations_for_items', 'session', 'recommendations_stale', 'similar_items'].map((q) => [
        q,
        cpuMs(q),
      ]),
    ),
    worker_cpu_seconds_per_epoch: setup?.cpu_seconds_per_epoch ?? null,
    worker_cpu_seconds_per_publish: setup?.publish_cpu_seconds ?? null,
    worker_cpu_ms_per_published_user: setup ? +((1000 * setup.publish_cpu_seconds) / catalogue.users).toFixed(2) : null,
    worker_peak_rss_mb: setup?.worker_peak_rss_mb ?? null,
    index_mb: setup ? +(setup.index_bytes / 2 ** 20).toFixed(1) : null,
    index_build_cpu_seconds: setup?.index_cpu_seconds ?? null,
  });
}

function concat(rows: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const row of rows) out.set(row, (at += row.length) - row.length);
  return out;
}

function shuffled<T>(list: readonly T[], rng: Rng): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function seconds(since: number): number {
  return +((performance.now() - since) / 1000).toFixed(1);
}
