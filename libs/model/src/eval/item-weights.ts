import { CsrMatrix } from '../interaction-matrix';

/** Dense items x items weights B, row-major: a user's scores are x B for the user's binary row x. */
export type DenseWeights = Float32Array | Float64Array;

/** Scores (rows end - start x items, row-major) from the rows' items (binarised): each item adds its row of weights. */
export function scoreRows(
  rows: CsrMatrix,
  start: number,
  end: number,
  items: number,
  addRow: (item: number, out: Float64Array) => void,
): Float32Array {
  const out = new Float32Array((end - start) * items);
  const row = new Float64Array(items);
  for (let r = start; r < end; r++) {
    row.fill(0);
    for (let q = rows.indptr[r]; q < rows.indptr[r + 1]; q++) addRow(rows.indices[q], row);
    out.set(row, (r - start) * items);
  }
  return out;
}

/**
 * B kept to k weights per item by magnitude, as CSR by row (row i: what item i adds to others'
 * scores): k * items weights instead of items^2, for serving. Scores are x B over the kept weights.
 * `row` keeps each item's k strongest outgoing weights (its top targets); `column` each item's k
 * strongest incoming ones (the k items that predict it, as item-kNN does).
 */
export class SparseItemWeights {
  private constructor(readonly weights: CsrMatrix) {}

  /** Each row (or column) keeps its k nonzero weights of largest magnitude (all of them when it has no more). */
  static topK(b: DenseWeights, items: number, k: number, by: 'row' | 'column'): SparseItemWeights {
    if (!(Number.isInteger(k) && k > 0)) throw new RangeError('k must be a positive integer');
    const line = new Float64Array(items);
    const keep = new Uint8Array(items * items);
    for (let i = 0; i < items; i++) {
      // row i, or column i gathered into a contiguous line
      for (let j = 0; j < items; j++) line[j] = by === 'row' ? b[i * items + j] : b[j * items + i];
      for (const j of largestByMagnitude(line, k)) keep[by === 'row' ? i * items + j : j * items + i] = 1;
    }
    const indptr = new Int32Array(items + 1);
    for (let i = 0; i < items; i++) {
      let count = 0;
      for (let j = 0; j < items; j++) count += keep[i * items + j];
      indptr[i + 1] = indptr[i] + count;
    }
    const indices = new Int32Array(indptr[items]);
    const values = new Float32Array(indptr[items]);
    for (let i = 0, q = 0; i < items; i++) {
      for (let j = 0; j < items; j++) {
        if (!keep[i * items + j]) continue;
        indices[q] = j;
        values[q++] = b[i * items + j];
      }
    }
    return new SparseItemWeights({ rows: items, cols: items, indptr, indices, values });
  }

  get items(): number {
    return this.weights.cols;
  }

  scores(rows: CsrMatrix, start = 0, end = rows.rows): Float32Array {
    const { indptr, indices, values } = this.weights;
    return scoreRows(rows, start, end, this.items, (item, out) => {
      for (let q = indptr[item]; q < indptr[item + 1]; q++) out[indices[q]] += values[q];
    });
  }
}

/**
 * Indexes of the k nonzero entries of largest magnitude: a size-k min-heap on |value|, so
 * O(n log k) per line with the heap touched only by entries that beat its smallest.
 */
function largestByMagnitude(row: Float64Array, k: number): Int32Array {
  const heap = new Int32Array(k);
  let size = 0;
  const mag = (q: number) => Math.abs(row[heap[q]]);
  const siftDown = (from: number) => {
    for (let q = from; ;) {
      const l = 2 * q + 1;
      const r = l + 1;
      let m = q;
      if (l < size && mag(l) < mag(m)) m = l;
      if (r < size && mag(r) < mag(m)) m = r;
      if (m === q) return;
      [heap[q], heap[m]] = [heap[m], heap[q]];
      q = m;
    }
  };
  for (let j = 0; j < row.length; j++) {
    const v = Math.abs(row[j]);
    if (v === 0) continue;
    if (size < k) {
      heap[size] = j;
      for (let q = size++, up = (q - 1) >> 1; q > 0 && mag(q) < mag(up); q = up, up = (q - 1) >> 1) {
        [heap[q], heap[up]] = [heap[up], heap[q]];
      }
    } else if (v > mag(0)) {
      heap[0] = j;
      siftDown(0);
    }
  }
  return heap.slice(0, size);
}
