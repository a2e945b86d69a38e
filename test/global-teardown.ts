import { rm } from 'node:fs/promises';
import { Cluster } from 'ioredis';
import { dropDatabase } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const { TEST_DATABASE_URL, TEST_EXPORT_DIR, TEST_REDIS_CLUSTER_NODES, TEST_REDIS_KEY_PREFIX } =
    await import('./test-env');
  // the cluster is shared: only this run's keys go (this process never read test/env.ts: say it all)
  if (TEST_REDIS_CLUSTER_NODES) {
    await deleteKeysOf(TEST_REDIS_CLUSTER_NODES, TEST_REDIS_KEY_PREFIX);
  }
  await dropDatabase(TEST_DATABASE_URL);
  await rm(TEST_EXPORT_DIR, { recursive: true, force: true });
}

/** Every key under the prefix (its own and its queues'), on every primary; plain imports: jest maps no @app path here. */
async function deleteKeysOf(nodes: string, prefix: string): Promise<void> {
  const startup = nodes.split(',').map((node) => ({ host: node.split(':')[0], port: Number(node.split(':')[1]) }));
  const cluster = new Cluster(startup);
  try {
    await new Promise((resolve) => cluster.once('ready', resolve));
    for (const node of cluster.nodes('master'))
      for (const match of [`${prefix}:*`, `{${prefix}}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await keys.reduce((pipe, key) => pipe.unlink(key), node.pipeline()).exec();
        } while (cursor !== '0');
      }
  } finally {
    cluster.disconnect();
  }
}
