import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the tests keep their data: a database of this jest run's own (created and dropped by the
 * global setup, named after its process so two runs never share one) and a Redis db index of the
 * tests' own, so a running demo (database `recoder`, Redis db 0) is never touched.
 */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ??
  `postgres://postgres@127.0.0.1:5432/recoder_test_${process.env.RECODER_TEST_RUN ?? process.pid}`;
/**
 * Set (TEST_REDIS_CLUSTER=1, as jest.cluster.config.js does): the tests run against the local Redis
 * Cluster of scripts/redis-cluster.sh (ports 7100-7105), which has db 0 only, so the run's keys
 * carry a prefix of its own instead (TEST_REDIS_KEY_PREFIX).
 */
export const TEST_REDIS_CLUSTER_NODES = process.env.TEST_REDIS_CLUSTER
  ? (process.env.TEST_REDIS_CLUSTER_NODES ?? '127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102')
  : undefined;
export const TEST_REDIS_URL = TEST_REDIS_CLUSTER_NODES
  ? `redis://${TEST_REDIS_CLUSTER_NODES.split(',')[0]}`
  : (process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/13');
export const TEST_REDIS_KEY_PREFIX = TEST_REDIS_CLUSTER_NODES
  ? `recoder-test-${process.env.RECODER_TEST_RUN ?? process.pid}`
  : 'recoder';
export const TEST_ADMIN_API_KEY = 'test-admin-key-0123456789';
/** Headers of an admin request. */
export const admin = { authorization: `Bearer ${TEST_ADMIN_API_KEY}` };
export const TEST_EXPORT_DIR = join(tmpdir(), `recoder-test-exports-${process.env.RECODER_TEST_RUN ?? process.pid}`);
