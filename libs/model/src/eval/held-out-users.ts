import { Rng, shuffleInPlace } from '@app/random';
import { CsrMatrix, rowLength, selectRows } from '../interaction-matrix';
import { MIN_ITEMS_TO_SCORE, newTriples, pushTriple, toCsr } from './splits';

/** Score from `input` row r (the fold-in items), find `heldOut` row r (the targets). */
export interface HeldOutRows {
  input: CsrMatrix;
  heldOut: CsrMatrix;
}

export interface HeldOutUsers extends HeldOutRows {
  /** Row of the matrix per held-out user (row r of input and heldOut), ascending. */
  rows: Int32Array;
  /** The other users' rows, whole: what may be trained on. */
  rest: CsrMatrix;
  /** Row of the matrix per row of `rest`. */
  restRows: Int32Array;
}

/** Share of a held-out user's items that are targets; the rest is the model's input (Liang et al.'s fold-in 80%). */
const TARGET_SHARE = 0.2;

/**
 * Strong generalisation on one matrix: `count` users (of those with at least MIN_ITEMS_TO_SCORE
 * items, drawn by `rng`) leave the training rows altogether; each one's items are cut into fold-in
 * input and targets. Fewer when fewer users have enough items.
 */
export function holdOutUsers(matrix: CsrMatrix, count: number, rng: Rng): HeldOutUsers {
  const all = Int32Array.from({ length: matrix.rows }, (_, r) => r);
  const eligible = shuffleInPlace(
    all.filter((r) => rowLength(matrix, r) >= MIN_ITEMS_TO_SCORE),
    rng,
  );
  const rows = eligible.slice(0, Math.max(0, Math.min(count, eligible.length))).sort();
  const isHeld = new Uint8Array(matrix.rows);
  rows.forEach((r) => (isHeld[r] = 1));
  const restRows = all.filter((r) => !isHeld[r]);

  const input = newTriples();
  const targets = newTriples();
  rows.forEach((r, k) => {
    const from = matrix.indptr[r];
    const length = rowLength(matrix, r);
    const order = shuffleInPlace(
      Int32Array.from({ length }, (_, j) => from + j),
      rng,
    );
    const nTargets = Math.max(1, Math.round(TARGET_SHARE * length));
    order.forEach((at, j) => pushTriple(j < nTargets ? targets : input, k, matrix.indices[at], matrix.values[at]));
  });
  return {
    rows,
    input: toCsr(input, rows.length, matrix.cols),
    heldOut: toCsr(targets, rows.length, matrix.cols),
    rest: selectRows(matrix, restRows),
    restRows,
  };
}

/**
 * The same users and items for a model with another item index (`toIds`, e.g. an older model):
 * input items it does not know are dropped, and target items it does not know get columns past its
 * catalogue, which it cannot rank, so they count as misses (see metricValues).
 */
export function reindexHeldOut(set: HeldOutRows, fromIds: readonly string[], toIds: readonly string[]): HeldOutRows {
  const known = new Map(toIds.map((id, c) => [id, c]));
  const unknown = new Map<string, number>();
  const input = newTriples();
  const targets = newTriples();
  for (let r = 0; r < set.input.rows; r++) {
    for (let k = set.input.indptr[r]; k < set.input.indptr[r + 1]; k++) {
      const c = known.get(fromIds[set.input.indices[k]]);
      if (c !== undefined) pushTriple(input, r, c, set.input.values[k]);
    }
    for (let k = set.heldOut.indptr[r]; k < set.heldOut.indptr[r + 1]; k++) {
      const id = fromIds[set.heldOut.indices[k]];
      if (!known.has(id) && !unknown.has(id)) unknown.set(id, toIds.length + unknown.size);
      pushTriple(targets, r, known.get(id) ?? unknown.get(id)!, set.heldOut.values[k]);
    }
  }
  return {
    input: toCsr(input, set.input.rows, toIds.length),
    heldOut: toCsr(targets, set.heldOut.rows, toIds.length + unknown.size),
  };
}
