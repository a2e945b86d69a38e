export * from './npy';
export * from './export-manifest';
