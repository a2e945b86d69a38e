import { DaeModel } from '../dae.model';
import { rowsFromItemLists } from '../interaction-matrix';
import { rankedItems, RankedItems, Ranking } from '../score';
import { ScoringKind } from './scoring-protocol';

export type { Ranking };

/** An embedding to decode, items to fold in, an item index to compare, or chosen items of an embedding to score. */
export type ScoringInput = UserVector | readonly number[] | number | ChosenItems;

/** A user's embedding and the items it was encoded from (null: unknown, scored without the item term). */
export interface UserVector {
  embedding: Float32Array;
  history: readonly number[] | null;
}

/** Some items' scores for one embedding: a few dot products, not a product over the catalogue. */
export interface ChosenItems extends UserVector {
  items: readonly number[];
}

/** One answer per row: the full score row, or its ranked best items where a ranking was asked for. */
export type ScoredRow = Float32Array | RankedItems;

/** Inputs of one kind as one product takes them: embeddings in one row-major block. */
export type ScoringBatch =
  | { kind: 'decode'; embeddings: Float32Array; rows: number; histories: (readonly number[] | null)[] }
  | { kind: 'foldIn' | 'reconstruct'; itemLists: (readonly number[])[] }
  | { kind: 'similar'; indices: number[] }
  | {
      kind: 'itemScores';
      embeddings: Float32Array;
      itemLists: (readonly number[])[];
      histories: (readonly number[] | null)[];
    };

/** The queued inputs of one kind as a batch (embeddings copied once, into one block). */
export function batchOf(kind: ScoringKind, inputs: readonly ScoringInput[]): ScoringBatch {
  if (kind === 'decode') {
    const rows = inputs as UserVector[];
    return {
      kind,
      embeddings: oneBlock(rows.map((r) => r.embedding)),
      rows: rows.length,
      histories: rows.map((r) => r.history),
    };
  }
  if (kind === 'itemScores') {
    const chosen = inputs as ChosenItems[];
    return {
      kind,
      embeddings: oneBlock(chosen.map((c) => c.embedding)),
      itemLists: chosen.map((c) => c.items),
      histories: chosen.map((c) => c.history),
    };
  }
  return kind === 'foldIn' || kind === 'reconstruct'
    ? { kind, itemLists: inputs as number[][] }
    : { kind, indices: inputs as number[] };
}

/**
 * Scores a batch in one product, then ranks the rows that asked for it. Ranking where the scores
 * are made means a request's thread gets k items back instead of a row of the whole catalogue
 * (80 KB at 20k items) to copy, mask and select from.
 */
export function scoreBatch(model: DaeModel, batch: ScoringBatch, rankings: readonly (Ranking | null)[]): ScoredRow[] {
  // one short row per input, never ranked
  if (batch.kind === 'itemScores') return model.scoresOf(batch.embeddings, batch.itemLists, batch.histories);
  const items = model.config.items;
  if (rankings.every((r) => r !== null)) {
    // every row ranked: by the model's rankings, which need not score the whole catalogue exactly
    const ranked = rankings as Ranking[];
    if (batch.kind === 'similar') return model.rankSimilar(batch.indices, ranked);
    return model.rank(
      batch.kind === 'decode'
        ? { embeddings: batch.embeddings, histories: batch.histories }
        : { rows: rowsFromItemLists(items, batch.itemLists) },
      ranked,
    );
  }
  const scores =
    batch.kind === 'decode'
      ? model.decode(batch.embeddings, batch.rows, scratchFor(batch.rows * items), 'users', batch.histories)
      : 'itemLists' in batch
        ? model.scores(
            rowsFromItemLists(items, batch.itemLists),
            scratchFor(batch.itemLists.length * items),
            'users',
            batch.kind === 'foldIn',
          )
        : model.itemCosines(batch.indices);
  return rankings.map((rank, r) => {
    const row = scores.subarray(r * items, (r + 1) * items);
    // a row that leaves is copied: the scratch block holds the next batch's scores (cosine rows are new)
    return rank ? rankedItems(row, rank.k, rank.exclude) : row.slice();
  });
}

/** Rows of equal length, copied into one row-major block. */
function oneBlock(rows: readonly Float32Array[]): Float32Array {
  const block = new Float32Array(rows.length * rows[0].length);
  rows.forEach((row, r) => block.set(row, r * row.length));
  return block;
}

/**
 * One score block per thread, reused from batch to batch: a new one per batch (1.3 MB for 16 rows
 * at 20k items) is garbage the scoring thread would collect several times a second.
 */
let scratch = new Float32Array(0);
function scratchFor(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}
