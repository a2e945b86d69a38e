export * from './graphql-client';
export * from './postgres';
export * from './redis-server';
