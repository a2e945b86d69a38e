export * from './metrics';
export * from './linalg';
export * from './ease';
export * from './popularity';
export * from './splits';
export * from './held-out-users';
