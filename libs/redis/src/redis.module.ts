import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { createRedisClient, RedisClient, RedisTarget } from './redis-client';

export const REDIS = Symbol('REDIS');

/** Where REDIS_URL and REDIS_CLUSTER_NODES say Redis is. */
export const redisTarget = (env: EnvVars): RedisTarget => ({
  url: env.REDIS_URL,
  clusterNodes: env.REDIS_CLUSTER_NODES,
});

/** Connection options shared by the client here, the scripts' and (with their changes) BullMQ's. */
export function redisOptions() {
  return {
    // fail fast: a request must not hang on a Redis that is down (the caller degrades instead)
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    // closing a connection to a Redis that is down leaves its socket open until this runs out (2 s
    // by default), and the process waits for it: a shutdown during an outage need not
    disconnectTimeout: 200,
    lazyConnect: false,
  };
}

class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}
  async onApplicationShutdown(): Promise<void> {
    // quit() waits for a reply that a down Redis never sends: only ask a connected one
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [EnvVars],
      useFactory: (env: EnvVars) => {
        // no auto-pipelining: while ioredis reconnects, auto-pipelined commands wait instead of failing
        // a command written just as the connection dies gets no reply and no error: give up on it
        // (not for BullMQ's connections, whose blocking reads wait on purpose)
        const client = createRedisClient(redisTarget(env), { ...redisOptions(), commandTimeout: 2000 });
        // ioredis reconnects by itself; an unhandled 'error' event would crash the process
        client.on('error', () => undefined);
        return client;
      },
    },
    RedisShutdown,
  ],
  exports: [REDIS],
})
export class RedisModule {}
