import { preferenceOf, SyntheticInteractions } from './generate-synthetic';

/**
 * How much more than an average item a user must prefer an item to click it about 63% of the
 * time (1 - 1/e). At 10, an item of average preference is clicked about 10% of the time, a user's
 * favourite items (often 30-100 times the average) nearly always.
 */
export const CLICK_SCALE = 10;

/**
 * The chance that simulated user u clicks item i when shown it: rising with their hidden
 * preference (preferenceOf) relative to the average item's, 1 - exp(-items * preference / scale).
 */
export function clickProbability(data: SyntheticInteractions, u: number, i: number, scale = CLICK_SCALE): number {
  return 1 - Math.exp(-(data.items * preferenceOf(data, u, i)) / scale);
}
