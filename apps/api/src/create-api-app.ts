import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, getEnv } from '@app/config';
import { mountQueueDashboard } from './admin/queue-dashboard';
import { ApiModule } from './api.module';
import { registerAuthPlugins } from './auth/http-plugins';

/** Batches of 10,000 events are ~1.5 MB of JSON: room for that, and a ceiling against abuse. */
const BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** Builds the API application (not yet listening); shared by main.ts and the e2e tests. */
export async function createApiApp(): Promise<NestFastifyApplication> {
  const env = getEnv(); // fails here, naming the bad variable, before anything connects
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }), {
    logger: createLogger(env, 'api'),
  });
  // before the routes are added, so its hook covers them
  registerAuthPlugins(app);
  mountQueueDashboard(app);
  return app;
}
