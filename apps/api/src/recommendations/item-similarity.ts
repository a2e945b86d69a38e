import * as tf from '@tensorflow/tfjs';

/**
 * Cosine similarity of one item to every item, as one (1 x dim) @ (dim x items) product on the
 * tfjs backend: the vectors are normalised and transposed once, when the model loads
 * (transposed matMul is ~10x slower on wasm than a plain one).
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

  /** Cosine of item `index` with every item (itself included, at 1). */
  scores(index: number): Float32Array {
    const row = this.normalised.subarray(index * this.dim, (index + 1) * this.dim);
    const out = tf.tidy(() => tf.matMul(tf.tensor2d(row, [1, this.dim]), this.transposed));
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
