import { getEnv } from '@app/config';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { createRedisClient, redisOptions, redisTarget } from '@app/redis';
import { runCli, UsageError } from './cli';

// npm run migrate:redis-keys   (API and worker stopped: see docs/redis-layout.md, Key layout 2)
// Renames the keys of every version published in key layout 1 to layout 2; one JSON line at the end.
runCli(async (args) => {
  if (args.length) throw new UsageError('usage: npm run migrate:redis-keys (no arguments)');
  const env = getEnv();
  if (env.REDIS_CLUSTER_NODES)
    throw new UsageError(
      'REDIS_CLUSTER_NODES is set: migrate on the single Redis, before moving its data to a cluster',
    );
  const redis = createRedisClient(redisTarget(env), {
    ...redisOptions(),
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
  });
  redis.on('error', () => undefined);
  try {
    const store = new EmbeddingStoreRepository(redis);
    const migrated: Record<string, number> = {};
    for (const version of (await store.versionsInRedis()).sort((a, b) => a - b)) {
      const renamed = await store.migrateKeyLayout(version);
      if (renamed !== null) migrated[`v${version}`] = renamed;
    }
    return { migrated };
  } finally {
    redis.disconnect();
  }
});
