import 'reflect-metadata';
import { runApp } from '@app/config';
import { createJobsApp } from './create-jobs-app';

runApp({
  name: 'jobs',
  create: createJobsApp,
  port: (env) => env.JOBS_PORT,
  ready: (port) => `worker up; health and metrics on :${port}`,
});
