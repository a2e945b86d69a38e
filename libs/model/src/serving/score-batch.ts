import { DaeModel } from '../dae.model';
import { rowsFromItemLists } from '../interaction-matrix';
import { rankedItems, RankedItems } from '../score';
import { ScoringKind } from './scoring-protocol';

/** Rank a row where it is scored: its k best items, these left out. */
export interface Ranking {
  k: number;
  exclude: ArrayLike<number>;
}

/** An embedding to decode, items to fold in, or an item index to compare. */
export type ScoringInput = Float32Array | readonly number[] | number;

/** One answer per row: the full score row, or its ranked best items where a ranking was asked for. */
export type ScoredRow = Float32Array | RankedItems;

/**
 * Scores a batch of one kind in one product, then ranks the rows that asked for it. Ranking where
 * the scores are made means a request's thread gets k items back instead of a row of the whole
 * catalogue (80 KB at 20k items) to copy, mask and select from.
 */
export function scoreBatch(model: DaeModel, kind: ScoringKind, inputs: readonly ScoringInput[], rankings: readonly (Ranking | null)[]): ScoredRow[] {
  const items = model.config.items;
  const scores =
    kind === 'decode'
      ? model.decode(concatRows(inputs as Float32Array[], model.embeddingDim), inputs.length)
      : kind === 'foldIn'
        ? model.scores(rowsFromItemLists(items, inputs as number[][]))
        : model.itemCosines(inputs as number[]);
  return rankings.map((rank, r) => {
    const row = scores.subarray(r * items, (r + 1) * items);
    return rank ? rankedItems(row, rank.k, rank.exclude) : row;
  });
}

export function concatRows(rows: readonly Float32Array[], width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, r) => out.set(row, r * width));
  return out;
}
