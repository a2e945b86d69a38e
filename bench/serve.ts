/**
 * Serving throughput and latency with autocannon (64 connections) against the real API process,
 * on synthetic data: 100,000 users, 20,000 items (or --items 200000), embedding 200.
 * The model has the default architecture [I-600-200-600-I] with initial (untrained) weights:
 * serving cost depends on the shapes, not on the values, and training a 20M-parameter model just
 * to time a matMul would take the bench an hour. JSON lines, each with its ratio to the trivial
 * query (the server's own ceiling) measured in the same run: each query runs in --rounds short
 * rounds, each right after a round of the trivial query, so a host that changes speed between
 * minutes (this one does, by 1.5x) moves both sides of a ratio alike.
 * Users are published as the training job does: embeddings plus their precomputed top items; and
 * items too: vectors plus the nearest items of the --similar-items most popular (default 20,000).
 * npm run bench:serve [-- --users 100000 --items 20000 --seconds 15 --connections 64 --cached-top 100 --similar-items 20000
 *   --rounds 3 --scoring-threads N --redis-db 12 --database NAME --queries recommendations,similar_items --setup-only | --reuse | --keys | --item-term
 *   | --baseline DIR [--together]] [--warm-users 20000]
 * --warm-users N: the cached queries ask the first N users (20,000), each answered once before the
 * rounds with their cached feedback state deleted: `recommendations_first_answer` is the rate of
 * those first answers (each reads the user's events from Postgres), the rounds that of returning users.
 * --item-term: the model carries an item term of the served shape (200 weights per item, random).
 * --baseline DIR: another checkout's API (DIR with its node_modules) beside this one's, on the same
 * published data, each query's rounds alternating between the two (this one first in odd rounds):
 * `serve_compare` lines give the median of the rounds' ratios this/baseline; --seconds is then
 * each side's total per query, in --rounds loads. --together: both APIs under load at once in each
 * round instead of in turn (on a shared, noisy host their ratio then varies far less).
 * --keys: the trivial query and `recommendations` with a serve-scoped key against PUBLIC_SCOPES=serve
 * open, alternated in --rounds (at least 5) rounds on one API; then the same with the rate limit on.
 * --feedback: two APIs of this checkout on the same data, one with recommendation ids and the
 * exposure policy on (the defaults), one with both off (RECOMMENDATION_IDS=false,
 * EXPOSURE_MAX_SHOWS=0), each query's rounds alternating between them: `serve_feedback` lines give
 * the median of the rounds' ratios on/off (ports --port and the next, default 3950). Users are drawn from the first --feedback-users (5,000),
 * each asked once on each API first, so rounds measure users whose feedback state is cached (a
 * user's first answer after an event reads Postgres either way). --together: both loaded at once
 * in each round, as with --baseline.
 */
import { availableParallelism } from 'node:os';
import Redis from 'ioredis';
import { Client } from 'pg';
import { ApiKeyAdmin } from '@app/api-keys';
import { ApiKeyRepository, createDataSource, migrate, ModelVersionRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { importSynthetic } from '@app/ingest';
import {
  DaeConfig,
  DaeModel,
  DEFAULT_DAE_CONFIG,
  DEFAULT_ITEM_TERM_OPTIONS,
  initBackend,
  initParams,
  ItemTerm,
  serializeModel,
  buildInteractionMatrix,
  ScoringPool,
} from '@app/model';
import { createRng } from '@app/random';
import { generateSynthetic, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { publishItems, SIMILAR_ITEMS_DEPTH } from '../apps/jobs/src/training/publish-items';
import { publishUsers } from '../apps/jobs/src/training/publish-users';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { cpuSeconds, emit, freshDatabase, startApi } from './lib/api-process';
import { firstAnswers, warmUsers } from './lib/first-answers';
import { Body, combine, expectModelServing, load, LoadResult, median, pairedRounds } from './lib/load-rounds';

const VERSION = 1;

runCli(async (args) => {
  const flags = parseFlags(args, [
    'users',
    'items',
    'per-user',
    'seconds',
    'connections',
    'cached-top',
    'similar-items',
    'scoring-threads',
    'redis-db',
    'setup-only',
    'reuse',
    'queries',
    'rounds',
    'keys',
    'item-term',
    'database',
    'baseline',
    'together',
    'feedback',
    'feedback-users',
    'port',
    'warm-users',
  ]);
  const users = Number(flags.users ?? 100_000);
  const items = Number(flags.items ?? 20_000);
  const perUser = Number(flags['per-user'] ?? 20);
  const seconds = Number(flags.seconds ?? 15);
  const connections = Number(flags.connections ?? 64);
  const rounds = Number(flags.rounds ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError('--rounds must be a positive integer');
  // the training job's default (CACHED_TOP_ITEMS): each user's best unseen items, ranked at publish
  const cachedTop = Number(flags['cached-top'] ?? 100);
  const similarItems = Number(flags['similar-items'] ?? 20_000);
  if (!Number.isInteger(similarItems) || similarItems < 0)
    throw new UsageError('--similar-items must be a non-negative integer');
  const scoringThreads = flags['scoring-threads'] ?? String(availableParallelism());
  // one database and Redis db per catalogue size: --setup-only publishes, --reuse serves what is there
  const redisUrl = `redis://127.0.0.1:6379/${flags['redis-db'] ?? 12}`;
  const database = flags.database ?? `recoder_bench_serve_${items}`;
  const backend = await initBackend();

  const data = generateSynthetic({ users, items, seed: 1, perUser });
  let url = `postgres://postgres@127.0.0.1:5432/${database}`;
  if (flags.reuse === undefined) {
    url = await freshDatabase(database);
    const imported = await importSynthetic({ url }, data);
    emit({ bench: 'serve_setup', users, items, interactions: imported.rows, backend: backend.backend });
    await publishModel(url, redisUrl, data, cachedTop, similarItems, flags['item-term'] === 'true');
  } else {
    // data published by an older checkout: bring its schema up to this one's (idempotent)
    await migrate(url);
    await expectPublished(redisUrl, users, items);
    await countPopularity(url);
  }
  if (flags['setup-only'] !== undefined) return undefined;

  const rng = createRng(9);
  const user = () => syntheticUserId(rng.int(users));
  // a user's first answer reads their feedback state from Postgres (FeedbackStates) and caches it in
  // Redis: the cached queries draw from users answered once before the rounds, as a product's
  // returning users are; those first answers are a line of their own
  const warmPool = Math.min(users, Number(flags['warm-users'] ?? 20_000));
  if (!(Number.isInteger(warmPool) && warmPool >= 1)) throw new UsageError('--warm-users must be a positive integer');
  const warmUser = () => syntheticUserId(rng.int(warmPool));
  const item = () => syntheticItemId(data.item[rng.int(data.item.length)]);
  const scenarios: Array<[string, () => { query: string; variables?: object }]> = [
    ['trivial', () => ({ query: '{ __typename }' })],
    [
      'recommendations',
      () => ({
        query: 'query R($u: ID!) { recommendations(userId: $u, limit: 20) { source items { score item { id } } } }',
        variables: { u: warmUser() },
      }),
    ],
    // seen items kept: the user's own items scored apart and merged into the precomputed list
    // (a decode of the whole catalogue for data published before the `seen` field)
    [
      'recommendations_decoded',
      () => ({
        query:
          'query R($u: ID!) { recommendations(userId: $u, limit: 20, excludeSeen: false) { source items { score item { id } } } }',
        variables: { u: warmUser() },
      }),
    ],
    [
      'recommendations_for_items',
      () => ({
        query:
          'query S($ids: [ID!]!) { recommendationsForItems(itemIds: $ids, limit: 20) { items { score item { id } } } }',
        variables: { ids: Array.from({ length: 10 }, item) },
      }),
    ],
    [
      'similar_items',
      () => ({
        query: 'query S($id: ID!) { similarItems(itemId: $id, limit: 20) { items { score item { id } } } }',
        variables: { id: item() },
      }),
    ],
  ];
  // --queries recommendations,similar_items: a subset (the trivial query runs beside each, for the ratios)
  const only = flags.queries?.split(',');
  const unknown = only?.filter((q) => !scenarios.some(([name]) => name === q));
  if (unknown?.length)
    throw new UsageError(
      `unknown --queries ${unknown.join(',')} (known: ${scenarios.map(([name]) => name).join(',')})`,
    );

  if (flags.keys !== undefined) {
    const recommendations = scenarios.find(([name]) => name === 'recommendations')![1];
    await measureKeys(
      { url, redisUrl, scoringThreads, seconds, connections, rounds: Math.max(rounds, 5) },
      scenarios[0][1],
      recommendations,
    );
    return undefined;
  }
  if (flags.feedback !== undefined) {
    const pool = Math.min(users, Number(flags['feedback-users'] ?? 5000));
    const pooled = () => syntheticUserId(rng.int(pool));
    const feedbackScenarios: Array<[string, Body]> = [
      // the same work on both APIs: the noise floor of the ratios
      ['trivial', () => ({ query: '{ __typename }' })],
      [
        'recommendations',
        () => ({
          query:
            'query R($u: ID!) { recommendations(userId: $u, limit: 20) { recommendationId source items { position score item { id } } } }',
          variables: { u: pooled() },
        }),
      ],
      [
        'similar_items_for_user',
        () => ({
          query:
            'query S($id: ID!, $u: ID) { similarItems(itemId: $id, userId: $u, limit: 20) { recommendationId items { position score item { id } } } }',
          variables: { id: item(), u: pooled() },
        }),
      ],
    ];
    await measureFeedback(
      { url, redisUrl, scoringThreads, seconds, connections, rounds },
      feedbackScenarios,
      only,
      pool,
      Number(flags.port ?? 3950),
      flags.together !== undefined,
    );
    return undefined;
  }
  if (flags.baseline !== undefined) {
    await compareWith(
      flags.baseline,
      flags.together !== undefined,
      { url, redisUrl, scoringThreads, seconds, connections, rounds },
      scenarios,
      only,
      user,
    );
    return undefined;
  }
  await measureModelRead(url);
  const api = await startApi({ DATABASE_URL: url, REDIS_URL: redisUrl, PORT: '3950', SCORING_THREADS: scoringThreads });
  try {
    await expectModelServing(`${api.url}/graphql`, user());
    if (!only || only.some((q) => q.startsWith('recommendations') && q !== 'recommendations_for_items'))
      emit({ bench: 'serve', ...(await firstAnswers(api, redisUrl, warmPool)), users, items });
    const trivialRuns: LoadResult[] = [];
    const perRound = seconds / rounds;
    for (const [name, body] of scenarios.slice(1)) {
      if (only && !only.includes(name)) continue;
      const { runs, ratios } = await pairedRounds(api, body, { seconds, rounds, connections });
      trivialRuns.push(...runs.map((run) => run.trivial));
      emit({
        bench: 'serve',
        query: name,
        users,
        items,
        dim: DEFAULT_DAE_CONFIG.embeddingDim,
        connections,
        seconds,
        rounds,
        scoring_threads: Number(scoringThreads),
        ...combine(runs.map((run) => run.query)),
        // the median of the paired rounds' ratios, and each round's
        ratio_to_trivial: median(ratios),
        round_ratios: ratios,
        round_p99_ms: runs.map((run) => run.query.p99_ms),
      });
    }
    if (trivialRuns.length)
      emit({
        bench: 'serve',
        query: 'trivial',
        users,
        items,
        dim: DEFAULT_DAE_CONFIG.embeddingDim,
        connections,
        seconds: +(perRound * trivialRuns.length).toFixed(1),
        rounds: trivialRuns.length,
        scoring_threads: Number(scoringThreads),
        ...combine(trivialRuns),
        ratio_to_trivial: 1,
      });
  } finally {
    await api.stop();
  }
  return undefined;
});

/**
 * --reuse serves the Redis db as it is: one published for another catalogue (the 20k and 200k
 * setups each flush the db they are given) would be measured against the wrong model's top items.
 */
async function expectPublished(redisUrl: string, users: number, items: number): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const meta = await new EmbeddingStoreRepository(redis).readMeta(VERSION);
    if (!meta) throw new UsageError(`${redisUrl} holds no published model: run with --setup-only first`);
    if (meta.items !== items || meta.users !== users) {
      throw new UsageError(
        `${redisUrl} holds a model of ${meta.users} users x ${meta.items} items, not ${users} x ${items}: run --setup-only for this shape, or give each shape its own --redis-db`,
      );
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * What a model switch costs an API process before it can score: reading the blob from Postgres
 * (the API does the same at start and on every switch), its time and how much the RSS grows.
 */
async function measureModelRead(url: string): Promise<void> {
  const ds = createDataSource(url);
  await ds.initialize();
  try {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const started = performance.now();
    const blob = await new ModelVersionRepository(ds).weights(VERSION);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    emit({
      bench: 'serve_model_read',
      bytes: blob?.length ?? 0,
      seconds: +seconds.toFixed(2),
      rss_growth_mb: Math.round((peak - before) / 2 ** 20),
    });
  } finally {
    await ds.destroy();
  }
}

/**
 * This checkout's API and the one in `baseline`, both up on the same data (ports 3950 and 3951),
 * measured in turn: each round loads each query on one API, then on the other, the order swapped
 * every round, so drift on a shared machine hits both sides alike. Short rounds, many of them:
 * a median of per-round ratios. `trivial` (same code on both sides) among --queries shows the
 * noise floor. `together`: both loaded at once in each round (each with all the connections),
 * so the two share whatever the machine gives at that moment, and the ratio is of their costs.
 */
async function compareWith(
  baseline: string,
  together: boolean,
  setup: ServeSetup,
  scenarios: Array<[string, Body]>,
  only: string[] | undefined,
  user: () => string,
): Promise<void> {
  const env = { DATABASE_URL: setup.url, REDIS_URL: setup.redisUrl, SCORING_THREADS: setup.scoringThreads };
  const apis = {
    after: await startApi({ ...env, PORT: '3950' }),
    before: await startApi({ ...env, PORT: '3951' }, baseline),
  };
  const compared = scenarios.filter(([name]) => (only ? only.includes(name) : name !== 'trivial'));
  const runs = new Map(
    compared.map(([name]) => [
      name,
      [] as Array<Record<'after' | 'before', LoadResult & { cpu_ms_per_request: number }>>,
    ]),
  );
  try {
    for (const api of Object.values(apis)) await expectModelServing(`${api.url}/graphql`, user());
    const perLoad = setup.seconds / setup.rounds;
    for (let r = 0; r < setup.rounds; r++) {
      for (const [name, body] of compared) {
        const run = async (side: 'after' | 'before') => {
          const api = apis[side];
          if (r === 0) await load(`${api.url}/graphql`, body, 2, setup.connections, false);
          const cpu = cpuSeconds(api.pid);
          const result = await load(`${api.url}/graphql`, body, perLoad, setup.connections, false);
          return { ...result, cpu_ms_per_request: (1000 * (cpuSeconds(api.pid) - cpu)) / result.requests };
        };
        const round = {} as Record<'after' | 'before', LoadResult & { cpu_ms_per_request: number }>;
        if (together) [round.after, round.before] = await Promise.all([run('after'), run('before')]);
        else
          for (const side of r % 2 === 0 ? (['after', 'before'] as const) : (['before', 'after'] as const))
            round[side] = await run(side);
        runs.get(name)!.push(round);
      }
    }
  } finally {
    await Promise.all(Object.values(apis).map((api) => api.stop()));
  }
  for (const [name, rounds] of runs) {
    const ratios = rounds.map((run) => +(run.after.req_per_s / run.before.req_per_s).toFixed(3));
    // what a request costs the API process, all threads: less moved by other load than a rate is
    const cpuRatios = rounds.map((run) => +(run.before.cpu_ms_per_request / run.after.cpu_ms_per_request).toFixed(3));
    const cpuMs = (side: 'after' | 'before') => median(rounds.map((run) => +run[side].cpu_ms_per_request.toFixed(3)));
    emit({
      bench: 'serve_compare',
      query: name,
      baseline,
      together,
      connections: setup.connections,
      rounds: setup.rounds,
      seconds_per_load: +(setup.seconds / setup.rounds).toFixed(1),
      after: combine(rounds.map((run) => run.after)),
      before: combine(rounds.map((run) => run.before)),
      // the median of the rounds' ratios after/before, and each round's: of the rates, and of the
      // CPU a request costs (before/after, so that above 1 is faster too)
      ratio_after_before: median(ratios),
      round_ratios: ratios,
      cpu_ms_per_request: { after: cpuMs('after'), before: cpuMs('before') },
      cpu_ratio_after_before: median(cpuRatios),
      round_cpu_ratios: cpuRatios,
    });
  }
}

/**
 * Recommendation ids and exposure on (this checkout's defaults) against both off, two APIs of the
 * same code on the same data (`port` and the next), measured in turn, the order swapped every
 * round, as compareWith does. Each user of the pool is asked once on each API first: their
 * feedback state is then cached in Redis (each API keeps to what it wrote: the off API leaves `exp`).
 */
async function measureFeedback(
  setup: ServeSetup,
  scenarios: Array<[string, Body]>,
  only: string[] | undefined,
  pool: number,
  port: number,
  together: boolean,
): Promise<void> {
  const env = { DATABASE_URL: setup.url, REDIS_URL: setup.redisUrl, SCORING_THREADS: setup.scoringThreads };
  const apis = {
    on: await startApi({ ...env, PORT: String(port) }),
    off: await startApi({ ...env, PORT: String(port + 1), RECOMMENDATION_IDS: 'false', EXPOSURE_MAX_SHOWS: '0' }),
  };
  const measured = scenarios.filter(([name]) => !only || only.includes(name));
  const runs = new Map(
    measured.map(([name]) => [name, [] as Array<Record<'on' | 'off', LoadResult & { cpu_ms_per_request: number }>>]),
  );
  try {
    for (const api of Object.values(apis)) {
      await expectModelServing(`${api.url}/graphql`, syntheticUserId(0));
      await warmUsers(`${api.url}/graphql`, pool);
    }
    const perLoad = setup.seconds / setup.rounds;
    for (let r = 0; r < setup.rounds; r++) {
      for (const [name, body] of measured) {
        const run = async (side: 'on' | 'off') => {
          const api = apis[side];
          if (r === 0) await load(`${api.url}/graphql`, body, 2, setup.connections, false);
          const cpu = cpuSeconds(api.pid);
          const result = await load(`${api.url}/graphql`, body, perLoad, setup.connections, false);
          return { ...result, cpu_ms_per_request: (1000 * (cpuSeconds(api.pid) - cpu)) / result.requests };
        };
        const round = {} as Record<'on' | 'off', LoadResult & { cpu_ms_per_request: number }>;
        if (together) [round.on, round.off] = await Promise.all([run('on'), run('off')]);
        else
          for (const side of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const))
            round[side] = await run(side);
        runs.get(name)!.push(round);
      }
    }
  } finally {
    await Promise.all(Object.values(apis).map((api) => api.stop()));
  }
  for (const [name, rounds] of runs) {
    const ratios = rounds.map((run) => +(run.on.req_per_s / run.off.req_per_s).toFixed(3));
    const cpuRatios = rounds.map((run) => +(run.off.cpu_ms_per_request / run.on.cpu_ms_per_request).toFixed(3));
    emit({
      bench: 'serve_feedback',
      query: name,
      together,
      feedback_users: pool,
      connections: setup.connections,
      rounds: setup.rounds,
      seconds_per_load: +(setup.seconds / setup.rounds).toFixed(1),
      on: combine(rounds.map((run) => run.on)),
      off: combine(rounds.map((run) => run.off)),
      // the median of the rounds' ratios on/off, and each round's: of the rates, and of the CPU a
      // request costs (off/on, so that above 1 is cheaper with them on)
      ratio_on_off: median(ratios),
      round_ratios: ratios,
      cpu_ratio_on_off: median(cpuRatios),
      round_cpu_ratios: cpuRatios,
    });
  }
}

interface ServeSetup {
  url: string;
  redisUrl: string;
  scoringThreads: string;
  seconds: number;
  connections: number;
  rounds: number;
}

/**
 * What a key costs a request: each round measures the trivial query and `recommendations` open
 * (PUBLIC_SCOPES=serve, no key) and with a serve-scoped key, on one API, alternated so drift on a
 * shared machine hits both alike. Then again with the rate limit on (a limit never reached, so
 * every request is counted in Redis and none refused).
 */
async function measureKeys(setup: ServeSetup, trivial: Body, recommendations: Body): Promise<void> {
  const db = createDataSource(setup.url);
  await db.initialize();
  const redis = new Redis(setup.redisUrl);
  const name = `bench-serve-${Date.now()}`;
  const { key } = await new ApiKeyAdmin(new ApiKeyRepository(db), redis).create(name, ['serve']);
  const keyed = { authorization: `Bearer ${key}` };
  try {
    for (const rateLimit of ['0', '1000000000']) {
      const api = await startApi({
        DATABASE_URL: setup.url,
        REDIS_URL: setup.redisUrl,
        PORT: '3950',
        SCORING_THREADS: setup.scoringThreads,
        PUBLIC_SCOPES: 'serve',
        RATE_LIMIT_PER_MINUTE: rateLimit,
      });
      try {
        await expectModelServing(`${api.url}/graphql`, syntheticUserId(0));
        const rounds = rateLimit === '0' ? setup.rounds : 3;
        const ratios = { trivial: [] as number[], recommendations: [] as number[] };
        for (let r = 0; r < rounds; r++) {
          const perLoad = setup.seconds / setup.rounds;
          const run = async (body: Body, headers: Record<string, string>) =>
            (await load(`${api.url}/graphql`, body, perLoad, setup.connections, r === 0, headers)).req_per_s;
          const round = {
            trivial_open: await run(trivial, {}),
            trivial_keyed: await run(trivial, keyed),
            recommendations_open: await run(recommendations, {}),
            recommendations_keyed: await run(recommendations, keyed),
          };
          ratios.trivial.push(+(round.trivial_keyed / round.trivial_open).toFixed(3));
          ratios.recommendations.push(+(round.recommendations_keyed / round.recommendations_open).toFixed(3));
          emit({ bench: 'serve_keys', rate_limit_per_minute: Number(rateLimit), round: r + 1, ...round });
        }
        emit({
          bench: 'serve_keys',
          rate_limit_per_minute: Number(rateLimit),
          rounds,
          connections: setup.connections,
          trivial_keyed_to_open: median(ratios.trivial),
          recommendations_keyed_to_open: median(ratios.recommendations),
          round_ratios_recommendations: ratios.recommendations,
        });
      } finally {
        await api.stop();
      }
    }
  } finally {
    await db.query(`DELETE FROM api_keys WHERE name = $1`, [name]);
    await db.destroy();
    redis.disconnect();
  }
}

/**
 * Item popularity as a training job leaves it (counted from what it read); a database set up by
 * an older checkout has none yet, and every catalogue refresh would count it from all interactions.
 */
async function countPopularity(url: string): Promise<void> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    await pg.query(
      `INSERT INTO item_popularity (item_id, interactions)
       SELECT item_id, count(*) FROM interactions WHERE NOT EXISTS (SELECT 1 FROM item_popularity) GROUP BY item_id`,
    );
  } finally {
    await pg.end();
  }
}

/** An item term of the served size (topK weights per item) with random targets and weights: its cost is its shape's. */
function randomItemTerm(items: number, topK: number): ItemTerm {
  const rng = createRng(3);
  const perRow = Math.min(topK, items);
  const indptr = Int32Array.from({ length: items + 1 }, (_, i) => i * perRow);
  const indices = new Int32Array(items * perRow);
  for (let i = 0; i < items; i++) {
    const row = new Set<number>();
    while (row.size < perRow) row.add(Math.floor(rng.next() * items));
    indices.set(Int32Array.from(row).sort(), i * perRow);
  }
  const values = Float32Array.from({ length: indices.length }, () => (rng.next() - 0.5) * 0.01);
  return new ItemTerm(
    { rows: items, cols: items, indptr, indices, values },
    { lambda: 100, dropout: 0.5, topK, alpha: 1 },
  );
}

/** An active model version as a training job would leave it: blob in Postgres, embeddings in Redis, pointer set. */
async function publishModel(
  url: string,
  redisUrl: string,
  data: ReturnType<typeof generateSynthetic>,
  cachedTop: number,
  similarItems: number,
  itemTerm: boolean,
): Promise<void> {
  const itemIds = Array.from({ length: data.items }, (_, i) => syntheticItemId(i));
  const userIds = Array.from({ length: data.users }, (_, u) => syntheticUserId(u));
  const config: DaeConfig = { ...DEFAULT_DAE_CONFIG, items: data.items };
  const model = new DaeModel(
    config,
    initParams(config, 1),
    itemTerm ? randomItemTerm(data.items, DEFAULT_ITEM_TERM_OPTIONS.topK) : null,
  );
  const blob = serializeModel(model, { itemIds });
  const pg = new Client({ connectionString: url });
  await pg.connect();
  await pg.query(
    `INSERT INTO model_versions (version, status, config, users, items, interactions, data_watermark, trained_at, activated_at)
     SELECT $1, 'ACTIVE', $2, $3, $4, count(*), max(occurred_at), now(), now() FROM interactions`,
    [VERSION, config, data.users, data.items],
  );
  await pg.end();
  await countPopularity(url);
  const ds = createDataSource(url);
  await ds.initialize();
  await new ModelVersionRepository(ds).saveWeights(VERSION, blob);
  await ds.destroy();

  const redis = new Redis(redisUrl);
  await redis.flushdb();
  const store = new EmbeddingStoreRepository(redis);
  const { matrix } = buildInteractionMatrix({ user: data.user, item: data.item, userIds, itemIds });
  const started = performance.now();
  let reported = 0;
  // ranked on scoring threads, as the training job does with TRAIN_THREADS (default 2) threads
  const threads = availableParallelism();
  const pool = await ScoringPool.start(model, blob, { threads, maxBatch: 64 });
  const itemVectors = model.itemEmbeddings();
  let depth: number | null;
  try {
    await publishUsers(
      store,
      VERSION,
      model,
      matrix,
      userIds,
      cachedTop,
      (done) => {
        if (done - reported >= 20_000 || done === userIds.length) {
          reported = done;
          process.stderr.write(`published ${done} users\n`);
        }
      },
      pool,
    );
    emit({
      bench: 'serve_publish',
      users: userIds.length,
      cached_top_items: cachedTop,
      threads,
      seconds: +((performance.now() - started) / 1000).toFixed(1),
    });
    const itemsStarted = performance.now();
    depth = await publishItems(
      store,
      VERSION,
      model,
      matrix,
      itemIds,
      itemVectors,
      similarItems,
      SIMILAR_ITEMS_DEPTH,
      (done, of) => {
        process.stderr.write(`compared ${done} of ${of} items\n`);
      },
      pool,
    );
    emit({
      bench: 'serve_publish_items',
      items: itemIds.length,
      precomputed_similar: Math.min(similarItems, itemIds.length),
      threads,
      seconds: +((performance.now() - itemsStarted) / 1000).toFixed(1),
    });
  } finally {
    await pool.close();
  }
  await store.writeMeta(VERSION, {
    dim: config.embeddingDim,
    itemDim: itemVectors.dim,
    users: data.users,
    items: data.items,
    trainedAt: new Date().toISOString(),
    modelHash: 'bench',
    topItems: cachedTop,
    similarItems: depth,
  });
  await store.setActive(VERSION);
  redis.disconnect();
  model.dispose();
}
