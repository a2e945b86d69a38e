export * from './formats';
export * from './read-interaction-file';
export * from './import-errors';
export * from './copy-text';
export * from './file-copy-chunks';
export * from './interaction-staging.repository';
export * from './copy-import';
export * from './synthetic-rows';
