import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { resetEnvCache } from '@app/config';
import { createJobsApp } from '../apps/jobs/src/create-jobs-app';

/**
 * The real worker module (BullMQ processors running) on the test database and Redis db. No
 * scheduled popularity recount unless asked for: one firing mid-test would rewrite counts a test set.
 */
export async function createTestJobsApp(env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  Object.assign(process.env, { TRAIN_THREADS: '1', POPULARITY_CRON: 'off', ...env });
  resetEnvCache();
  const app = await createJobsApp();
  await app.init();
  return app;
}
