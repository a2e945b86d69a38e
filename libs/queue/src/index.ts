export * from './queue-names';
export * from './queue.module';
export * from './job-scheduler';
export * from './enqueue-training';
export * from './queue-errors';
