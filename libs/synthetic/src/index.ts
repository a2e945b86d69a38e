export * from './generate-synthetic';
