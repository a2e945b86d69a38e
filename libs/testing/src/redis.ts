import Redis, { Cluster } from 'ioredis';
import { getEnv } from '@app/config';
import { keyPrefix } from '@app/embedding-store/embedding-keys';
import { parseClusterNodes, RedisClient, scanPrimaries } from '@app/redis';

/**
 * A direct client for asserting what is (not) stored: on the tests' own Redis db index, or, when
 * the URL names a node of the cluster the tests run on (REDIS_CLUSTER_NODES), on that cluster.
 */
export function testRedis(url: string): RedisClient {
  const nodes = getEnv().REDIS_CLUSTER_NODES;
  const { hostname: host, port } = new URL(url);
  if (nodes && parseClusterNodes(nodes).some((node) => node.host === host && String(node.port) === port))
    return new Cluster(parseClusterNodes(nodes), { redisOptions: { maxRetriesPerRequest: 1 } });
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/** Every key matching a pattern (SCAN on every primary, never KEYS). */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const keys = new Set<string>();
  for await (const batch of scanPrimaries(redis, pattern, 1000)) for (const key of batch.keys) keys.add(key);
  return [...keys];
}

/** Every key recoder wrote under this run's prefix: its own keys and its queues'. */
export async function ownKeys(redis: RedisClient, prefix = keyPrefix()): Promise<string[]> {
  return [...(await scanKeys(redis, `${prefix}:*`)), ...(await scanKeys(redis, `{${prefix}}:*`))];
}

/**
 * Empties the tests' Redis: the db index of their own on one Redis; on a cluster (db 0 only,
 * shared) every key under the run's prefix, node by node.
 */
export async function flushTestRedis(redis: RedisClient, prefix = keyPrefix()): Promise<void> {
  if (!(redis instanceof Cluster)) {
    await redis.flushdb();
    return;
  }
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`])
    for await (const { node, keys } of scanPrimaries(redis, pattern, 1000)) {
      const pipe = node.pipeline();
      for (const key of keys) pipe.unlink(key);
      await pipe.exec();
    }
}
