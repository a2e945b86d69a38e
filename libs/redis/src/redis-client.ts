import Redis, { ChainableCommander, Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { CLUSTER_SLOTS, keySlot } from './key-slot';

/** A client of one Redis or of a Redis Cluster: the commands recoder sends work on both. */
export type RedisClient = Redis | Cluster;

/** What a Redis URL says besides where the server is: credentials and TLS (a cluster's nodes share them). */
function credentialsOf(u: URL) {
  return {
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Parses REDIS_URL into ioredis options (host, port, db, credentials). */
export function parseRedisUrl(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: Number(u.pathname.replace('/', '') || 0),
    ...credentialsOf(u),
  };
}

/** REDIS_CLUSTER_NODES (`host:port,...`) as ioredis' startup nodes. */
export function parseClusterNodes(nodes: string): { host: string; port: number }[] {
  return nodes.split(',').map((node) => {
    const colon = node.lastIndexOf(':');
    return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
  });
}

/** Where to connect: REDIS_CLUSTER_NODES names a cluster (credentials from REDIS_URL), else REDIS_URL one Redis. */
export interface RedisTarget {
  url: string;
  clusterNodes?: string;
}

/**
 * A client of the target with these per-connection options. On a cluster the options apply to
 * every node's connection; the cluster follows MOVED replies and failovers itself.
 */
export function createRedisClient(target: RedisTarget, options: RedisOptions): RedisClient {
  if (!target.clusterNodes) return new Redis({ ...options, ...parseRedisUrl(target.url) });
  const { username, password, tls } = credentialsOf(new URL(target.url));
  return new Cluster(parseClusterNodes(target.clusterNodes), clusterOptions(options, { username, password, tls }));
}

/** How long a cluster waits between asking for its slots again after a failover (ms). */
export const CLUSTER_RETRY_DELAY_MS = 100;

function clusterOptions(options: RedisOptions, credentials: Partial<RedisOptions>): ClusterOptions {
  const { maxRetriesPerRequest, enableOfflineQueue, lazyConnect, ...perNode } = options;
  return {
    // connecting is the cluster's to do, not each node's: a lazy client connects on connect()
    lazyConnect: lazyConnect ?? false,
    // commands sent before the slots are known wait for them, unless told not to (the API's client
    // fails fast instead, as on one Redis)
    enableOfflineQueue: enableOfflineQueue ?? true,
    // a command redirected or refused during a failover is sent again once the slots are read anew
    // (docs/redis-layout.md, Redis Cluster: Failover and retries)
    maxRedirections: 16,
    retryDelayOnFailover: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnClusterDown: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnTryAgain: CLUSTER_RETRY_DELAY_MS,
    // ask again for the slots every few seconds, so a failover is noticed before a command fails on it
    slotsRefreshInterval: 2000,
    slotsRefreshTimeout: 2000,
    redisOptions: { ...perNode, ...credentials, maxRetriesPerRequest: maxRetriesPerRequest ?? null },
  };
}

/** A second connection for SUBSCRIBE (a subscribed connection can do nothing else); a cluster's delivers every node's messages. */
export function subscriberOf(redis: RedisClient): RedisClient {
  const options = { enableOfflineQueue: true, maxRetriesPerRequest: null };
  if (redis instanceof Cluster)
    // the nodes' options (credentials, TLS) kept, with the subscriber's changes
    return redis.duplicate(undefined, {
      enableOfflineQueue: true,
      redisOptions: { ...redis.options.redisOptions, ...options },
    });
  return redis.duplicate(options);
}

/** How long a cluster client that has not learnt its nodes yet is waited for. */
const CLUSTER_READY_TIMEOUT_MS = 5000;

/**
 * The connections holding data: every primary of a cluster, or the one Redis. A cluster's slot
 * table is read again first, so a scan right after a failover covers the promoted replica; a slot
 * without a reachable owner is an error, never a scan that silently leaves its keys out.
 */
export async function primaries(redis: RedisClient): Promise<Redis[]> {
  if (!(redis instanceof Cluster)) return [redis];
  if (redis.status !== 'ready') await clusterReady(redis);
  await new Promise<void>((resolve, reject) => redis.refreshSlotsCache((err) => (err ? reject(err) : resolve())));
  const owners = new Set<string>();
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const owner = redis.slots[slot]?.[0];
    if (!owner) throw new Error(`Redis Cluster slot ${slot} has no primary`);
    owners.add(owner);
  }
  const byKey = new Map(redis.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  return [...owners].map((owner) => {
    const node = byKey.get(owner);
    if (!node) throw new Error(`Redis Cluster primary ${owner} is not connected`);
    return node;
  });
}

function clusterReady(cluster: Cluster): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cluster.off('ready', onReady);
      reject(new Error(`Redis Cluster not ready after ${CLUSTER_READY_TIMEOUT_MS} ms (status ${cluster.status})`));
    }, CLUSTER_READY_TIMEOUT_MS);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    cluster.once('ready', onReady);
  });
}

/**
 * One command per key, pipelined: one pipeline on one Redis; on a cluster one per group of nodes
 * (a cluster pipeline must target the nodes of one slot range), sent at once. Replies come back in
 * the order of `keys`, each `[error, reply]`.
 */
export async function pipelineByKey(
  redis: RedisClient,
  keys: readonly string[],
  add: (pipe: ChainableCommander, key: string, index: number) => void,
): Promise<[Error | null, unknown][]> {
  if (!(redis instanceof Cluster)) {
    const pipe = redis.pipeline();
    keys.forEach((key, i) => add(pipe, key, i));
    return (await pipe.exec()) ?? [];
  }
  // the groups need the slot table, which the client learns once connected
  if (redis.status !== 'ready') {
    if (!redis.options.enableOfflineQueue)
      throw new Error("Cluster isn't ready and enableOfflineQueue options is false");
    await clusterReady(redis);
  }
  const groups = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const nodes = redis.slots[keySlot(key)]?.join(';') ?? '';
    const group = groups.get(nodes);
    if (group) group.push(i);
    else groups.set(nodes, [i]);
  });
  const replies = new Array<[Error | null, unknown]>(keys.length);
  await Promise.all(
    [...groups.values()].map(async (indices) => {
      const pipe = redis.pipeline();
      for (const i of indices) add(pipe, keys[i], i);
      const results = ((await pipe.exec()) ?? []) as [Error | null, unknown][];
      indices.forEach((i, k) => (replies[i] = results[k]));
    }),
  );
  return replies;
}

/**
 * Every key matching `pattern`, batch by batch, on every primary (SCAN sees one node's keys); each
 * batch comes with the connection of the node holding it. SCAN may repeat a key.
 */
export async function* scanPrimaries(
  redis: RedisClient,
  pattern: string,
  count: number,
): AsyncGenerator<{ node: Redis; keys: string[] }> {
  for (const node of await primaries(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length) yield { node, keys };
    } while (cursor !== '0');
  }
}

/** Whether the client is a cluster's. */
export const isCluster = (redis: RedisClient): redis is Cluster => redis instanceof Cluster;
