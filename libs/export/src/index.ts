export * from './npy';
export * from './export-manifest';
export * from './export-writer';
export * from './export-formats';
