export * from './redis.module';
export * from './redis-client';
export * from './key-slot';
