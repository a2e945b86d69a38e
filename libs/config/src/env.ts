import 'reflect-metadata';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { SCOPES } from '@app/api-keys/scopes';

export const TFJS_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
const SCOPE_LIST = new RegExp(`^((${SCOPES.join('|')})(,(${SCOPES.join('|')}))*)?$`);

/** Every setting recoder reads. Defaults let `npm run demo` work on a machine with local Postgres and Redis. */
export class EnvVars {
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/recoder';

  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * A Redis Cluster's seed nodes (`host:port,host:port`); set, it replaces REDIS_URL's host, port
   * and db (a cluster has db 0 only), keeping its user, password and `rediss:` TLS.
   */
  @IsOptional()
  @Matches(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, { message: 'must be host:port[,host:port...]' })
  REDIS_CLUSTER_NODES?: string;

  /** First part of every Redis key and channel recoder uses, so deployments (or test runs) can share a Redis. */
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1-64 letters, digits, _ . -' })
  REDIS_KEY_PREFIX = 'recoder';

  /** The bootstrap key: every scope. Admin operations need it (or a key with the admin scope) while no other exists. */
  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'must be at least 8 characters' })
  ADMIN_API_KEY?: string;

  /** Scopes open to callers without a key (e.g. "serve,ingest"), for a trusted network or while clients move to keys. */
  @Matches(SCOPE_LIST, { message: `must be a comma-separated list of ${SCOPES.join(', ')}` })
  PUBLIC_SCOPES = '';

  /** How long an API process trusts its key cache without a change message (a missed revoke lasts at most this). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  API_KEY_CACHE_SECONDS = 30;

  /** Requests per minute per key (per IP without one), counted in Redis across replicas; 0: no limit. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_PER_MINUTE = 0;

  /** Serves GraphiQL at /graphiql (its data requests still need a key). */
  @IsIn(['true', 'false'])
  GRAPHIQL: 'true' | 'false' = 'false';

  /** Marks the browser session cookie Secure: set when the API is reached over https. */
  @IsIn(['true', 'false'])
  SESSION_COOKIE_SECURE: 'true' | 'false' = 'false';

  /** Signs session cookies and download links; unset: derived from ADMIN_API_KEY (so replicas agree). */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  SIGNING_SECRET?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  JOBS_PORT = 3001;

  /** Forces a TensorFlow.js backend; unset = tensorflow if installed, else wasm, else cpu. */
  @IsOptional()
  @IsIn(TFJS_BACKENDS)
  TFJS_BACKEND?: (typeof TFJS_BACKENDS)[number];

  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  /** json: one JSON object per log line (for log shippers); pretty: for a terminal. */
  @IsIn(LOG_FORMATS)
  LOG_FORMAT: (typeof LOG_FORMATS)[number] = 'json';

  /**
   * Overrides of the model's defaults (libs/model: at most 200 epochs with early stopping, a
   * 600-wide embedding) for every retrain; unset, a retrain trains what `npm run evaluate` measures.
   * A retrain request may override them in turn.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  TRAIN_EPOCHS?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(2048)
  EMBEDDING_DIM?: number;

  /**
   * The model's input of a retrain that sets none: binary (every POSITIVE event counts 1) or
   * weighted (its type's weight times its own, aged by FEEDBACK_HALF_LIFE_DAYS).
   */
  @IsIn(['binary', 'weighted'])
  TRAIN_INPUT: 'binary' | 'weighted' = 'binary';

  /** Seconds of hyperparameter search before every retrain (scheduled ones too) that sets none; unset: none. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86400)
  TRAIN_TUNE_BUDGET?: number;

  /**
   * Above this many items a retrain fits no linear item term (EDLAE's fit holds items x items
   * floats: 400 MB and about a minute at 10,000 items); the autoencoder alone is served.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(50_000)
  ITEM_TERM_MAX_ITEMS = 10_000;

  /**
   * Catalogues of at least this many items get an approximate item index at publish (ItemIndex:
   * k-means clusters of the output layer's items), and serving scores the items of the clusters a
   * row probes instead of every item; 0: never. Probing ranked a row in 0.34x the exact pass's
   * time at 50,000 items, 0.27x at 100,000 and 0.22x at 1M, finding all of the exact top 100 on
   * bench:ann's layer (docs/scaling.md#approximate-item-index); the default keeps catalogues below
   * 100,000 on the exact path.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  ANN_MIN_ITEMS = 100_000;

  /** Where the API keeps the item index files of the versions it serves, one directory each (memory-mapped). */
  @IsString()
  ANN_CACHE_DIR = join(tmpdir(), 'recoder-ann');

  /**
   * Catalogues with at least this many items train with sampled negatives and lazy Adam (an epoch
   * then costs interactions, not users x items) at a width of 256 unless EMBEDDING_DIM says
   * otherwise; smaller ones train the full output layer. Where bench:train's two curves cross
   * (docs/evaluation.md, Sampled training).
   */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  SAMPLED_TRAINING_MIN_ITEMS = 100_000;

  /** Worker threads one training uses (data-parallel, one tfjs backend each). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  TRAIN_THREADS = 2;

  /** A new model is activated only if its NDCG@100 is at most this much below the active one's. */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  QUALITY_TOLERANCE = 0.02;

  /** Versions whose Redis keys are kept (the active one included), for rollback. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  KEEP_VERSIONS = 2;

  /** Optional scheduled retraining, cron syntax (e.g. "0 3 * * *"). */
  @IsOptional()
  @IsString()
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'must be a cron expression' })
  TRAIN_CRON?: string;

  /**
   * How often the jobs worker recounts item popularity (the cold-start ranking) between trainings,
   * cron syntax; "off" leaves it to training alone.
   */
  @IsString()
  @Matches(/^(off|(\S+\s+){4,5}\S+)$/, { message: 'must be a cron expression or "off"' })
  POPULARITY_CRON = '*/10 * * * *';

  /** How long a training job may go without renewing its lock before BullMQ treats it as stalled. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  TRAINING_LOCK_MS = 120_000;

  /**
   * How many of each user's best unseen items a published model precomputes into Redis: a request
   * within them is answered without decoding the catalogue (0: decode every request). The worker's
   * value when it publishes becomes the version's (meta `topItems`); the API keeps to that one.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(500)
  CACHED_TOP_ITEMS = 100;

  /**
   * How many of the most popular items a published model precomputes the nearest items of into
   * Redis (similarItems answers them with one read; the rest are compared on first request). At
   * 20,000 items each costs about a fold-in's work at publish (~10 s for all 20,000 on two threads).
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  PRECOMPUTED_SIMILAR_ITEMS = 20_000;

  /**
   * Threads the API scores on (decoding embeddings, comparing items), one tfjs backend and core
   * each, so scoring never blocks answering; 0 scores on the request thread. One per core: they
   * run below the request thread's priority, so they take what answering leaves (on 2 cores, 2
   * gave 1.3-1.7x the fold-ins of 1, and the same cached answers under a mixed load).
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(64)
  SCORING_THREADS = availableParallelism();

  /**
   * Largest request body the API reads, in bytes; a larger one is answered 413 (PAYLOAD_TOO_LARGE)
   * unread. 2 MiB holds the largest batch recordInteractions takes (10,000 events with event ids
   * and timestamps are ~1.1-1.5 MB of JSON).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  GRAPHQL_BODY_LIMIT = 2 * 1024 * 1024;

  /** The API's Postgres statements are cancelled after this many ms (the worker's are not: training reads whole tables). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  STATEMENT_TIMEOUT_MS = 5000;

  /**
   * Rows that may wait for the API's scoring threads; past this a request that needs a decode fails
   * at once with OVERLOADED instead of queueing without end (answers from the cache are unaffected).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SCORING_QUEUE_LIMIT = 512;

  /**
   * Worker: a POSITIVE event's value in the weighted input halves every this many days; unset: no
   * decay. Recorded with each version, whose fold-ins age events the same way.
   */
  @IsOptional()
  @Type(() => Number)
  @IsNumber({}, { message: 'must be a number of days' })
  @Min(0.001)
  @Max(36500)
  FEEDBACK_HALF_LIFE_DAYS?: number;

  /**
   * Worker (and the API's popularity before any training): events older than this many days are
   * no input, nor popularity; unset: all are. Recorded with each version, whose fold-ins keep to it.
   */
  @IsOptional()
  @Type(() => Number)
  @IsNumber({}, { message: 'must be a number of days' })
  @Min(0.001)
  @Max(36500)
  FEEDBACK_RETENTION_DAYS?: number;

  /** API: recordInteractions (and npm run import) refuse an event type no rule declares. */
  @IsIn(['true', 'false'])
  FEEDBACK_STRICT: 'true' | 'false' = 'false';

  /** API: a JSON file of event types' rules, declared at start where no rule exists yet (README: declaring event types). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  FEEDBACK_TYPES_FILE?: string;

  /** API: false: answers carry no recommendationId (nothing can be attributed; for comparing the cost). */
  @IsIn(['true', 'false'])
  RECOMMENDATION_IDS: 'true' | 'false' = 'true';

  /**
   * API: how long a recommendationId is accepted (reportImpressions, an event's recommendationId)
   * after its answer was given.
   */
  @Type(() => Number)
  @IsNumber({}, { message: 'must be a number of days' })
  @Min(0.001)
  @Max(3650)
  RECOMMENDATION_ID_TTL_DAYS = 7;

  /** API: impressions older than this many days are dropped (a month's partition at a time). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(36500)
  IMPRESSIONS_RETENTION_DAYS = 90;

  /** API: impressions are held in memory, rolled up, and written when this many (user, item, week) rows are held... */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  IMPRESSIONS_FLUSH_ROWS = 5000;

  /** ... or this many ms after the last write, and at a clean stop. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(600_000)
  IMPRESSIONS_FLUSH_MS = 1000;

  /** API: an event with no recommendationId is attributed when its user was shown its item this many minutes before. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(43_200)
  ATTRIBUTION_WINDOW_MINUTES = 60;

  /** API: online metrics are counted in memory and written this often (and at a clean stop). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(600_000)
  ONLINE_METRICS_FLUSH_MS = 5000;

  /** API: comma-separated event types that count as conversions in online metrics; empty: every POSITIVE type. */
  @IsString()
  @Matches(/^[^,\s]*(,[^,\s]+)*$/)
  ONLINE_CONVERSION_TYPES = '';

  /** API: an item shown this many times to a user with no POSITIVE event from them since is hidden from them; 0: never. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000)
  EXPOSURE_MAX_SHOWS = 3;

  /** API: ... for this many days after it was last shown. */
  @Type(() => Number)
  @IsNumber({}, { message: 'must be a number of days' })
  @Min(0.0001)
  @Max(3650)
  EXPOSURE_COOLDOWN_DAYS = 7;

  /** Where export jobs write their files. */
  @IsString()
  @MinLength(1)
  EXPORT_DIR = './exports';
}

export class InvalidEnvError extends Error {}

export function validateEnv(raw: Record<string, unknown>): EnvVars {
  // empty strings mean "not set", so a blank line in .env falls back to the default
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const env = plainToInstance(EnvVars, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false });
  if (errors.length) {
    // name the bad keys and the rule, never echo their values (they may be secrets)
    const detail = errors.map((e) => `${e.property} (${Object.values(e.constraints ?? {}).join('; ')})`);
    throw new InvalidEnvError(`Invalid environment: ${detail.join(', ')}`);
  }
  return env;
}

let cached: EnvVars | undefined;

/** The validated environment of this process, read once. */
export function getEnv(): EnvVars {
  cached ??= validateEnv(process.env);
  return cached;
}

/** For tests that change process.env between app boots. */
export function resetEnvCache(): void {
  cached = undefined;
}

/**
 * GRAPHIQL=true, read when the GraphQL module is declared (before the validated environment is;
 * getEnv() still rejects a bad value at boot).
 */
export function graphiqlEnabled(): boolean {
  return process.env.GRAPHIQL === 'true';
}
