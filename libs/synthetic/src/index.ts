export * from './generate-synthetic';
export * from './simulated-clicks';
