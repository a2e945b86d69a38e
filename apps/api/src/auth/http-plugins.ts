import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EnvVars } from '@app/config';
import { rateLimitNamespace } from '@app/embedding-store';
import { REDIS, RedisClient } from '@app/redis';
import { ApiErrorCode } from '../errors/api-error';
import { Credentials } from './credentials';

/** Probes and scrapes are never limited: they expose no user data and must answer during a flood. */
const UNLIMITED_PATHS = new Set(['/health', '/health/ready', '/metrics']);

/** Fastify plugins the auth needs, registered before the routes so their hooks cover them. */
export function registerAuthPlugins(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  // not awaited: awaiting register() boots Fastify's root early (as in queue-dashboard.ts)
  void fastify.register(fastifyCookie);
  registerRateLimit(app, fastify);
}

/**
 * RATE_LIMIT_PER_MINUTE requests per minute per key (per IP for callers without a valid key),
 * counted in Redis so the limit holds across API replicas; off at 0. A Redis that is down lets
 * requests through rather than refusing them all.
 */
function registerRateLimit(app: NestFastifyApplication, fastify: FastifyInstance): void {
  const env = app.get(EnvVars);
  if (env.RATE_LIMIT_PER_MINUTE === 0) return;
  const credentials = app.get(Credentials);
  void fastify.register(rateLimit, {
    global: true,
    max: env.RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    redis: app.get<RedisClient>(REDIS),
    nameSpace: rateLimitNamespace(),
    skipOnError: true,
    allowList: (request: FastifyRequest) => UNLIMITED_PATHS.has(request.url.split('?')[0]),
    keyGenerator: (request: FastifyRequest) => {
      const caller = credentials.ofBrowserRequest(request);
      return caller.kind === 'key' ? `key:${caller.name}` : `ip:${request.ip}`;
    },
    // shaped as a GraphQL error, so GraphQL clients read it as they read any other
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      errors: [
        {
          message: `Rate limit exceeded: ${context.max} requests per minute per key; retry in ${context.after}`,
          extensions: { code: ApiErrorCode.RateLimited },
        },
      ],
    }),
  });
}
