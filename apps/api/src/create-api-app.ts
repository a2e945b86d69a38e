import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, getEnv } from '@app/config';
import { mountQueueDashboard } from './admin/queue-dashboard';
import { ApiModule } from './api.module';
import { registerAuthPlugins } from './auth/http-plugins';
import { mountConsole } from './console/console-assets';

/** Builds the API application (not yet listening); shared by main.ts and the e2e tests. */
export async function createApiApp(): Promise<NestFastifyApplication> {
  const env = getEnv(); // fails here, naming the bad variable, before anything connects
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule,
    new FastifyAdapter({ bodyLimit: env.GRAPHQL_BODY_LIMIT }),
    {
      logger: createLogger(env, 'api'),
    },
  );
  // before the routes are added, so its hook covers them
  registerAuthPlugins(app);
  mountQueueDashboard(app);
  mountConsole(app);
  return app;
}
