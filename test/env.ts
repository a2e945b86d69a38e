import {
  TEST_ADMIN_API_KEY,
  TEST_DATABASE_URL,
  TEST_EXPORT_DIR,
  TEST_REDIS_CLUSTER_NODES,
  TEST_REDIS_KEY_PREFIX,
  TEST_REDIS_URL,
} from './test-env';

// runs before each test file's modules load, so getEnv() sees the test settings
process.env.DATABASE_URL = TEST_DATABASE_URL;
process.env.REDIS_URL = TEST_REDIS_URL;
process.env.REDIS_KEY_PREFIX = TEST_REDIS_KEY_PREFIX;
if (TEST_REDIS_CLUSTER_NODES) process.env.REDIS_CLUSTER_NODES = TEST_REDIS_CLUSTER_NODES;
process.env.ADMIN_API_KEY = TEST_ADMIN_API_KEY;
process.env.EXPORT_DIR = TEST_EXPORT_DIR;
process.env.LOG_LEVEL = 'warn';
process.env.NODE_ENV = 'test';
// one scoring thread: the worker path is exercised, at the cost of one backend start per model load
process.env.SCORING_THREADS = '1';
// the scopes a product's own services use open without a key, as on a trusted network: the tests of
// those flows call them keylessly; admin fields still need the key, and test/security/ turns this off
process.env.PUBLIC_SCOPES = 'ingest,serve,embeddings,catalogue';
