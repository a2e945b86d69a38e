import { getEnv } from '@app/config';
import { createDataSource, FeedbackTypeRepository, OwedStaleFlagRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import {
  DEFAULT_TYPE_BY_FORMAT,
  ImportProgress,
  importInteractionFile,
  INTERACTION_FORMATS,
  isInteractionFormat,
} from '@app/ingest';
import { createRedisClient, redisOptions, RedisTarget } from '@app/redis';
import { parseFlags, runCli, UsageError } from './cli';

const USAGE = `usage: npm run import -- --format ${INTERACTION_FORMATS.join('|')} --file PATH [--type T]`;
const PROGRESS_INTERVAL_MS = 250;

// npm run import -- --format movielens-100k --file ../shared/data/ml-100k/u.data
runCli(async (args) => {
  const flags = parseFlags(args, ['format', 'file', 'type']);
  if (!flags.format || flags.format === 'true') throw new UsageError(`--format is required; ${USAGE}`);
  if (!flags.file || flags.file === 'true') throw new UsageError(`--file is required; ${USAGE}`);
  if (flags.type === 'true') throw new UsageError(`--type needs a value; ${USAGE}`);

  const { DATABASE_URL, REDIS_URL, REDIS_CLUSTER_NODES, FEEDBACK_STRICT } = getEnv();
  // as recordInteractions does in strict mode: a type no rule declares is refused before anything is read
  if (FEEDBACK_STRICT === 'true' && isInteractionFormat(flags.format))
    await refuseUndeclared(DATABASE_URL, flags.type ?? DEFAULT_TYPE_BY_FORMAT[flags.format]);
  const progress = process.stderr.isTTY ? ttyProgress() : undefined;
  const result = await importInteractionFile({
    url: DATABASE_URL,
    path: flags.file,
    format: flags.format,
    type: flags.type,
    onProgress: progress?.update,
  }).finally(() => progress?.done());

  // the API serves a user's cached embedding until it is flagged: flag everyone the file has news of
  const staleFlags =
    result.inserted > 0
      ? await flagStale({ url: REDIS_URL, clusterNodes: REDIS_CLUSTER_NODES }, DATABASE_URL, result.userIds)
      : { users_flagged_stale: 0 };
  return {
    rows: result.rows,
    seconds: Number(result.seconds.toFixed(3)),
    rows_per_s: Math.round(result.rows / result.seconds),
    inserted: result.inserted,
    duplicates: result.duplicates,
    users: result.users,
    items: result.items,
    ...staleFlags,
  };
});

/**
 * Flags the users' cached embeddings of the live model stale, as recordInteractions does, so the
 * API folds their new rows in on their next request. The rows are committed whatever happens
 * here: with Redis down the flags are owed in Postgres, and the API sets them once Redis answers.
 */
async function flagStale(
  target: RedisTarget,
  databaseUrl: string,
  userIds: readonly string[],
): Promise<Record<string, number | string>> {
  const redis = createRedisClient(target, { ...redisOptions(), lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const version = await new EmbeddingStoreRepository(redis).markActiveUsersStale(userIds);
    return { users_flagged_stale: version === null ? 0 : userIds.length };
  } catch (err) {
    const reason = (err as Error).message;
    const notOwed = await oweFlags(databaseUrl, userIds);
    if (notOwed) {
      process.stderr.write(
        `warning: imported, but could not flag the users' cached embeddings stale (${reason}) nor owe the flags (${notOwed}); they are served as before until the next retrain\n`,
      );
      return { stale_flags_error: reason, stale_flags_owed: 0 };
    }
    process.stderr.write(
      `warning: imported; Redis is unreachable (${reason}), so the API flags these ${userIds.length} users' cached embeddings once it answers again\n`,
    );
    return { stale_flags_error: reason, stale_flags_owed: userIds.length };
  } finally {
    redis.disconnect();
  }
}

async function refuseUndeclared(databaseUrl: string, type: string): Promise<void> {
  const ds = createDataSource(databaseUrl);
  try {
    await ds.initialize();
    if (!(await new FeedbackTypeRepository(ds).rules()).declares(type))
      throw new UsageError(
        `type "${type}" is not a declared event type (FEEDBACK_STRICT is on): declare it with setFeedbackType, or pass --type`,
      );
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

/** Owes the flags in Postgres (stale_flags_owed), for the API to set; the error message if it could not. */
async function oweFlags(databaseUrl: string, userIds: readonly string[]): Promise<string | null> {
  const ds = createDataSource(databaseUrl);
  try {
    await ds.initialize();
    await new OwedStaleFlagRepository(ds).owe(userIds);
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

/** One self-overwriting stderr line, at most every PROGRESS_INTERVAL_MS. */
function ttyProgress() {
  let last = 0;
  let shown = false;
  return {
    update: ({ phase, rows, seconds }: ImportProgress): void => {
      const now = Date.now();
      if (phase === 'merging') {
        process.stderr.write(
          `\r\x1b[Kread ${rows.toLocaleString('en-US')} rows in ${seconds.toFixed(1)}s; merging into users, items, interactions...`,
        );
        shown = true;
        return;
      }
      if (now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      shown = true;
      const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
      process.stderr.write(`\r\x1b[Kread ${rows.toLocaleString('en-US')} rows, ${rate.toLocaleString('en-US')} rows/s`);
    },
    done: (): void => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
