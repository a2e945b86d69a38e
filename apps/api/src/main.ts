import 'reflect-metadata';
import { runApp } from '@app/config';

runApp({
  name: 'api',
  // imported once running: a module that reads a bad setting as it loads fails into runApp's one-line message
  create: () => import('./create-api-app').then((m) => m.createApiApp()),
  port: (env) => env.PORT,
  ready: (port) => `listening on :${port} (GraphQL at /graphql, health at /health)`,
});
