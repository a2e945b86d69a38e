export * from './metrics';
export * from './linalg';
export * from './spd-inverse-f32';
export * from './item-weights';
export * from './edlae';
export * from './ease';
export * from './popularity';
export * from './splits';
