export * from './item-similarity';
export * from './scoring-pool';
