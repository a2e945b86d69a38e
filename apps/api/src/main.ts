import 'reflect-metadata';
import { runApp } from '@app/config';
import { createApiApp } from './create-api-app';

runApp({
  name: 'api',
  create: createApiApp,
  port: (env) => env.PORT,
  ready: (port) => `listening on :${port} (GraphQL at /graphql, health at /health)`,
});
