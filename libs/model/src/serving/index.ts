export * from './scoring-pool';
export { Ranking } from './score-batch';
