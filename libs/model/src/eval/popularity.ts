import { CsrMatrix } from '../interaction-matrix';

/** Most-popular baseline: every user gets the items with the most training users. */
export class Popularity {
  private constructor(private readonly counts: Float32Array) {}

  static fit(train: CsrMatrix): Popularity {
    const counts = new Float32Array(train.cols);
    for (const i of train.indices) counts[i] += 1;
    return new Popularity(counts);
  }

  scores(rows: CsrMatrix, start = 0, end = rows.rows): Float32Array {
    const out = new Float32Array((end - start) * this.counts.length);
    for (let r = 0; r < end - start; r++) out.set(this.counts, r * this.counts.length);
    return out;
  }
}
