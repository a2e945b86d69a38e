import * as tf from '@tensorflow/tfjs';

/**
 * Cosine similarity of items to every item, as one (n x dim) @ (dim x items) product on the tfjs
 * backend: the vectors are normalised and transposed once, when built (transposed matMul is ~10x
 * slower on wasm than a plain one).
 */
export class ItemSimilarity {
  private readonly normalised: Float32Array;
  private readonly transposed: tf.Tensor2D;

  constructor(
    vectors: Float32Array,
    private readonly dim: number,
  ) {
    this.normalised = normaliseRows(vectors, dim);
    const items = vectors.length / dim;
    this.transposed = tf.tidy(() => tf.keep(tf.transpose(tf.tensor2d(this.normalised, [items, dim])) as tf.Tensor2D));
  }

  /** Cosine of each item in `indices` with every item (itself included, at 1): indices.length x items, row-major. */
  scores(indices: ArrayLike<number>): Float32Array {
    const rows = new Float32Array(indices.length * this.dim);
    for (let r = 0; r < indices.length; r++) rows.set(this.normalised.subarray(indices[r] * this.dim, (indices[r] + 1) * this.dim), r * this.dim);
    const out = tf.tidy(() => tf.matMul(tf.tensor2d(rows, [indices.length, this.dim]), this.transposed));
    const scores = out.dataSync() as Float32Array;
    out.dispose();
    return scores;
  }

  dispose(): void {
    this.transposed.dispose();
  }
}

function normaliseRows(vectors: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(vectors.length);
  for (let r = 0; r < vectors.length / dim; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += vectors[r * dim + d] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) out[r * dim + d] = vectors[r * dim + d] * scale;
  }
  return out;
}
