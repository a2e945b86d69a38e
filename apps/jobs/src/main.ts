import 'reflect-metadata';
import { runApp } from '@app/config';

runApp({
  name: 'jobs',
  // imported once running: a module that reads a bad setting as it loads fails into runApp's one-line message
  create: () => import('./create-jobs-app').then((m) => m.createJobsApp()),
  port: (env) => env.JOBS_PORT,
  ready: (port) => `worker up; health and metrics on :${port}`,
});
