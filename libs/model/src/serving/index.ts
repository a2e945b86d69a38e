export * from './scoring-pool';
