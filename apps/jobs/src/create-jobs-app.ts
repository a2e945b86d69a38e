import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, getEnv } from '@app/config';
import { JobsModule } from './jobs.module';

export async function createJobsApp(): Promise<NestFastifyApplication> {
  const env = getEnv();
  const app = await NestFactory.create<NestFastifyApplication>(JobsModule, new FastifyAdapter(), {
    logger: createLogger(env, 'jobs'),
  });
  return app;
}
