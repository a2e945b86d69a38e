export * from './scopes';
export * from './api-key-secret';
export * from './api-key-changes';
export * from './api-key-admin';
