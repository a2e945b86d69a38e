// The recommendation, training, export and erasure e2e suites once more, against a local Redis
// Cluster (scripts/redis-cluster.sh, started by the global setup if it is not up), isolated by a
// key prefix of the run's own; and the cluster's own tests (*.cluster-spec.ts: failover).
/* global process -- jest loads this file in Node */
process.env.TEST_REDIS_CLUSTER = '1';
const base = require('./jest.config.js');

module.exports = {
  ...base,
  // a stack closed right after it started leaves sockets to the cluster's first node open (the worker
  // apps' BullMQ connections, closed while connecting): jest would wait on them after the last test
  forceExit: true,
  testRegex: [
    'test/(recommendations|training|exports|erasure|embedding-store)\\.e2e-spec\\.ts$',
    '\\.cluster-spec\\.ts$',
  ],
};
