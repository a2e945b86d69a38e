import { DaeModel, evaluateRanking, HeldOutRows, Scorer, sliceRows, STRONG_METRICS } from '@app/model';

export interface RankingFigures {
  ndcg100: number;
  recall20: number;
  recall50: number;
}

/** A model's scores of a block of rows, as evaluateRanking asks for them. */
export const modelScorer =
  (model: DaeModel): Scorer =>
  (rows, start, end) =>
    model.scores(sliceRows(rows, start, end));

/** Liang et al.'s strong-generalisation figures of a scorer on held-out users: what a version stores and the gate compares. */
export function rankingFigures(scorer: Scorer, set: HeldOutRows): RankingFigures {
  const m = evaluateRanking(scorer, set.input, set.heldOut, STRONG_METRICS);
  return { ndcg100: m['ndcg@100'], recall20: m['recall@20'], recall50: m['recall@50'] };
}
