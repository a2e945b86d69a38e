export * from './embedding-keys';
export * from './embedding-store.repository';
export * from './embedding-store.module';
