import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { resetEnvCache } from '@app/config';
import { createApiApp } from '../apps/api/src/create-api-app';

/** The real API module on the test database and Redis db; nothing mocked. */
export async function createTestApiApp(env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  Object.assign(process.env, env);
  resetEnvCache();
  const app = await createApiApp();
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
