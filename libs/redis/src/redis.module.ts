import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { EnvVars } from '@app/config';

export const REDIS = Symbol('REDIS');

/** Parses REDIS_URL; shared by the client here and BullMQ's connection. */
export function redisOptions(url: string) {
  return {
    // fail fast: a request must not hang on a Redis that is down (the caller degrades instead)
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    // closing a connection to a Redis that is down leaves its socket open until this runs out (2 s
    // by default), and the process waits for it: a shutdown during an outage need not
    disconnectTimeout: 200,
    lazyConnect: false,
    ...parseRedisUrl(url),
  };
}

function parseRedisUrl(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    db: Number(u.pathname.replace('/', '') || 0),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
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
        const client = new Redis({ ...redisOptions(env.REDIS_URL), commandTimeout: 2000 });
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
