export * from './formats';
export * from './read-interaction-file';
