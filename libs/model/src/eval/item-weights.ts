import { CsrMatrix } from '../interaction-matrix';

/** Dense items x items weights B, row-major: a user's scores are x B for the user's binary row x. */
export type DenseWeights = Float32Array | Float64Array;

/** Scores (rows end - start x items, row-major) from the rows' items (binarised): each item adds its row of weights. */
export function scoreRows(rows: CsrMatrix, start: number, end: number, items: number, addRow: (item: number, out: Float64Array) => void): Float32Array {
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
 * B kept to each item's k largest weights by magnitude (row i: what item i adds to others' scores),
 * as CSR: k * items weights instead of items^2, for serving. Scores are x B over the kept weights.
 */
export class SparseItemWeights {
  private constructor(readonly weights: CsrMatrix) {}

  /** Row i keeps its k nonzero weights of largest magnitude (all of them when it has no more than k). */
  static topKPerRow(b: DenseWeights, items: number, k: number): SparseItemWeights {
    if (!(Number.isInteger(k) && k > 0)) throw new RangeError('k must be a positive integer');
    const indptr = new Int32Array(items + 1);
    const kept: Int32Array[] = [];
    for (let i = 0; i < items; i++) {
      const row = b.subarray(i * items, (i + 1) * items);
      kept.push(largestByMagnitude(row, k));
      indptr[i + 1] = indptr[i] + kept[i].length;
    }
    const indices = new Int32Array(indptr[items]);
    const values = new Float32Array(indptr[items]);
    kept.forEach((cols, i) => {
      indices.set(cols, indptr[i]);
      cols.forEach((c, q) => (values[indptr[i] + q] = b[i * items + c]));
    });
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
 * Indexes (ascending) of the k nonzero entries of largest magnitude: a size-k min-heap on |value|,
 * so O(n log k) per row with the heap touched only by entries that beat its smallest.
 */
function largestByMagnitude(row: DenseWeights, k: number): Int32Array {
  const heap = new Int32Array(k);
  let size = 0;
  const mag = (q: number) => Math.abs(row[heap[q]]);
  const siftDown = (from: number) => {
    for (let q = from; ; ) {
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
      for (let q = size++; q > 0 && mag(q) < mag((q - 1) >> 1); q = (q - 1) >> 1) [heap[q], heap[(q - 1) >> 1]] = [heap[(q - 1) >> 1], heap[q]];
    } else if (v > mag(0)) {
      heap[0] = j;
      siftDown(0);
    }
  }
  return heap.slice(0, size).sort();
}
