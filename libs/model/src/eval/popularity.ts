import { CsrMatrix } from '../interaction-matrix';

/** Most-popular baseline: every user gets the items with the most training users. */
export class Popularity {
  private constructor(private readonly counts: Float32Array) {}

  static fit(train: CsrMatrix): Popularity {
    return new Popularity(itemUsers(train));
  }

  scores(rows: CsrMatrix, start = 0, end = rows.rows): Float32Array {
    const out = new Float32Array((end - start) * this.counts.length);
    for (let r = 0; r < end - start; r++) out.set(this.counts, r * this.counts.length);
    return out;
  }
}

/** How many users (rows) have each item (column). */
export function itemUsers(matrix: CsrMatrix): Float32Array {
  const counts = new Float32Array(matrix.cols);
  for (const i of matrix.indices) counts[i] += 1;
  return counts;
}
