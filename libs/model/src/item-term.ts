import { CsrMatrix } from './interaction-matrix';

/** How a served item term was chosen (stored with the model and its version). */
export interface ItemTermInfo {
  /** EDLAE's L2 penalty and dropout (Steck, NeurIPS 2020; dropout 0 is EASE). */
  lambda: number;
  dropout: number;
  /** Weights kept per item: its strongest outgoing ones. */
  topK: number;
  /** The weight of the term against the autoencoder's logits. */
  alpha: number;
}

/** One row's term: the items it touches (ascending) and their values. */
export interface SparseTermRow {
  items: Int32Array;
  values: Float32Array;
}

/**
 * The linear item-to-item term served beside the autoencoder's scores: a user's score of item j
 * gains alpha x sum over the user's items i of B[i, j], with B EDLAE's weights kept to the topK
 * strongest per item (row i: what item i adds to the others). The autoencoder squeezes a user
 * through a few hundred dimensions and loses item-to-item structure a full-rank linear model keeps;
 * the sum of both beats either alone on every dataset of the suite (docs/evaluation.md). Its
 * memory is topK x items weights, never items x items.
 *
 * A term is computed the same way on every path (full decode, exact rescoring of ranked candidates,
 * chosen items' scores), so they agree to the bit: per item, a float64 sum of B's weights over the
 * history's distinct items in ascending order, times alpha, rounded to float32, then added to the
 * logit in float32. Alpha scales the sum, not the weights, so that choosing alpha sums once per user.
 */
export class ItemTerm {
  /** A dense scratch row per term (float64 sums) and the items the current row touched. */
  private readonly sums: Float64Array;
  private readonly touched: Uint8Array;
  private readonly hit: Int32Array;

  /**
   * `weights`: B's kept weights as CSR, items x items; `scale` multiplies each sum: alpha, or 1 for
   * a format-2 model blob, whose weights hold alpha already.
   */
  constructor(
    readonly weights: CsrMatrix,
    readonly info: ItemTermInfo,
    readonly scale: number = info.alpha,
  ) {
    if (weights.rows !== weights.cols) throw new RangeError('item term weights must be items x items');
    this.sums = new Float64Array(weights.cols);
    this.touched = new Uint8Array(weights.cols);
    this.hit = new Int32Array(weights.cols);
  }

  get items(): number {
    return this.weights.cols;
  }

  /** A row's term from the user's items (any order, repeats allowed; out-of-range items ignored). */
  rowOf(history: ArrayLike<number>): SparseTermRow {
    const { items, sums } = this.sumsOf(history);
    const values = new Float32Array(items.length);
    for (let n = 0; n < items.length; n++) values[n] = this.scale * sums[n];
    return { items, values };
  }

  /** The unscaled float64 sums of B's rows over the user's distinct items, by touched item (ascending). */
  sumsOf(history: ArrayLike<number>): { items: Int32Array; sums: Float64Array } {
    const { indptr, indices, values } = this.weights;
    const { sums, touched, items } = this;
    const sources = canonical(history, items);
    const hit = this.hit;
    let count = 0;
    for (let s = 0; s < sources.length; s++) {
      const i = sources[s];
      for (let q = indptr[i]; q < indptr[i + 1]; q++) {
        const j = indices[q];
        if (touched[j] === 0) {
          touched[j] = 1;
          hit[count++] = j;
        }
        sums[j] += values[q];
      }
    }
    // the touched items ascending: sorting them costs ~n log n, scanning the flags `items` steps;
    // a row touching a sixth of a 3,572-item catalogue took 4x less by the scan (bench/item-term-rows.ts)
    const out = new Int32Array(count);
    if (count * Math.log2(count + 1) < items) {
      out.set(hit.subarray(0, count));
      out.sort();
    } else for (let j = 0, n = 0; n < count; j++) if (touched[j] === 1) out[n++] = j;
    const vals = new Float64Array(out.length);
    for (let n = 0; n < out.length; n++) {
      const j = out[n];
      vals[n] = sums[j];
      sums[j] = 0;
      touched[j] = 0;
    }
    return { items: out, sums: vals };
  }

  /**
   * Adds each row's term to a score block: users-major (count x items, row r's items side by side)
   * or items-major (items x count, as the output layer's product leaves it). Rows whose history is
   * null get none. Returns, per row, the largest |score| among the items the term touched (0 when
   * none): the rounding the addition can bring, for a ranking's error margins.
   */
  addTo(
    block: Float32Array,
    histories: readonly (ArrayLike<number> | null)[],
    layout: 'users' | 'items',
  ): Float64Array {
    const count = histories.length;
    const items = this.items;
    if (block.length !== count * items) throw new RangeError(`expected ${count} x ${items} scores`);
    const largest = new Float64Array(count);
    histories.forEach((history, r) => {
      if (!history || history.length === 0) return;
      const term = this.rowOf(history);
      let max = 0;
      for (let n = 0; n < term.items.length; n++) {
        const at = layout === 'users' ? r * items + term.items[n] : term.items[n] * count + r;
        block[at] += term.values[n];
        max = Math.max(max, Math.abs(block[at]));
      }
      largest[r] = max;
    });
    return largest;
  }

  /** Adds a row's term to the scores of listed items (scores[n] is items[n]'s), in place. */
  addToListed(history: ArrayLike<number> | null, items: ArrayLike<number>, scores: Float32Array): void {
    if (!history || history.length === 0 || items.length === 0) return;
    const term = this.rowOf(history);
    // the term's items are ascending: each listed item by binary search
    for (let n = 0; n < items.length; n++) {
      const at = search(term.items, items[n]);
      if (at >= 0) scores[n] += term.values[at];
    }
  }

  /** Serialised size in bytes (indptr, indices, values). */
  get byteLength(): number {
    return (this.weights.rows + 1) * 4 + this.weights.indices.length * 8;
  }
}

/** The history's distinct in-range items, ascending: the order every path sums in. */
function canonical(history: ArrayLike<number>, items: number): Int32Array {
  const out = Int32Array.from(history).sort();
  let size = 0;
  for (let n = 0; n < out.length; n++) {
    const i = out[n];
    if (i < 0 || i >= items || (size > 0 && out[size - 1] === i)) continue;
    out[size++] = i;
  }
  return out.subarray(0, size);
}

function search(sorted: Int32Array, value: number): number {
  let [lo, hi] = [0, sorted.length - 1];
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else if (sorted[mid] > value) hi = mid - 1;
    else return mid;
  }
  return -1;
}
