import { BullModule } from '@nestjs/bullmq';
import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { EnvVars } from '@app/config';
import { CLUSTER_RETRY_DELAY_MS, parseClusterNodes, parseRedisUrl, redisOptions } from '@app/redis';
import { QueueErrorLog } from './queue-errors';
import { queuePrefix, QueueName } from './queue-names';

const QUEUE_CONNECTION = Symbol('QUEUE_CONNECTION');

/**
 * BullMQ's connection: options it makes its connections from, or on a cluster a Cluster it shares
 * (BullMQ builds a Cluster only from an instance). Workers block on Redis, so it needs unlimited
 * retries and an offline queue.
 */
function queueConnection(env: EnvVars): ConnectionOptions {
  const options = { ...redisOptions(), maxRetriesPerRequest: null, enableOfflineQueue: true };
  if (!env.REDIS_CLUSTER_NODES) return { ...options, ...parseRedisUrl(env.REDIS_URL) };
  const { username, password, tls } = parseRedisUrl(env.REDIS_URL);
  const cluster = new Cluster(parseClusterNodes(env.REDIS_CLUSTER_NODES), {
    enableOfflineQueue: true,
    retryDelayOnFailover: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnClusterDown: CLUSTER_RETRY_DELAY_MS,
    slotsRefreshInterval: 2000,
    redisOptions: { ...options, username, password, tls },
  });
  cluster.on('error', () => undefined);
  return cluster;
}

/** BullMQ leaves a connection it was given open: the shared Cluster is closed here, after the queues. */
class QueueConnectionShutdown implements OnApplicationShutdown {
  constructor(@Inject(QUEUE_CONNECTION) private readonly connection: ConnectionOptions) {}
  onApplicationShutdown(): void {
    if (this.connection instanceof Cluster) this.connection.disconnect();
  }
}

@Module({
  providers: [{ provide: QUEUE_CONNECTION, inject: [EnvVars], useFactory: queueConnection }, QueueConnectionShutdown],
  exports: [QUEUE_CONNECTION],
})
class QueueConnectionModule {}

@Module({
  imports: [
    BullModule.forRootAsync({
      imports: [QueueConnectionModule],
      inject: [QUEUE_CONNECTION],
      useFactory: (connection: ConnectionOptions) => ({
        connection,
        prefix: queuePrefix(),
        defaultJobOptions: {
          attempts: 3,
          backoff: { type: 'exponential', delay: 5000 },
          removeOnComplete: 1000,
          removeOnFail: false,
        },
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Training }, { name: QueueName.Export }, { name: QueueName.Popularity }),
  ],
  providers: [QueueErrorLog],
  exports: [BullModule],
})
export class QueueModule {}
