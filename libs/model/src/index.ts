export * from './backend';
export * from './interaction-matrix';
export * from './dae.model';
export { TrainBatch, batchGradients } from './dae-gradients';
export * from './train-dae';
export * from './score';
export * from './serialize';
export * from './eval';
export * from './anomaly';
