export * from './graphql-client';
export * from './postgres';
export * from './redis';
export * from './redis-server';
export * from './tcp-proxy';
export * from './relies-on';
export * from './file-bytes';
