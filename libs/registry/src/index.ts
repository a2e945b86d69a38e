export * from './model-registry.service';
export * from './registry.module';
export * from './experiment-arms';
