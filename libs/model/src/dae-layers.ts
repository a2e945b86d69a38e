import * as tf from '@tensorflow/tfjs';
import { Activation, DaeInput } from './dae-config';
import { CsrMatrix } from './interaction-matrix';

// The layer arithmetic both directions share: training's forward and backward passes and
// DaeModel's inference compute the first layer and activations with these same functions.

/**
 * The model's input values for CSR rows: binarised or weighted, then L2-normalised per row.
 * Returned in the rows' nonzero order (parallel to rows.indices).
 */
export function normalizedInput(rows: CsrMatrix, input: DaeInput): Float32Array {
  const out = new Float32Array(rows.values.length);
  for (let r = 0; r < rows.rows; r++) {
    const start = rows.indptr[r];
    const end = rows.indptr[r + 1];
    let norm = 0;
    for (let k = start; k < end; k++) {
      const v = input === 'binary' ? (rows.values[k] > 0 ? 1 : 0) : rows.values[k];
      out[k] = v;
      norm += v * v;
    }
    if (norm === 0) continue;
    const inv = 1 / Math.sqrt(norm);
    for (let k = start; k < end; k++) out[k] *= inv;
  }
  return out;
}

/**
 * The first layer on sparse input: out[r] = sum_k x_k * W0[col_k] + b0. Only the rows of W0 for
 * the row's items are read, so the cost is nnz x width, not items x width.
 */
export function sparseFirstLayer(
  rows: number,
  indptr: Int32Array,
  indices: Int32Array,
  x: Float32Array,
  w0: Float32Array,
  b0: Float32Array,
): Float32Array {
  const width = b0.length;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    out.set(b0, o);
    let k = indptr[r];
    const end = indptr[r + 1];
    // four nonzeros per pass: a quarter of the loads and stores of the output row
    while (k < end) {
      const ks: number[] = [];
      while (ks.length < 4 && k < end) {
        if (x[k] !== 0) ks.push(k); // 0 = dropped by the corruption
        k++;
      }
      if (ks.length === 4) {
        const [v0, v1, v2, v3] = [x[ks[0]], x[ks[1]], x[ks[2]], x[ks[3]]];
        const [a, b, c, d] = [
          indices[ks[0]] * width,
          indices[ks[1]] * width,
          indices[ks[2]] * width,
          indices[ks[3]] * width,
        ];
        for (let j = 0; j < width; j++) out[o + j] += v0 * w0[a + j] + v1 * w0[b + j] + v2 * w0[c + j] + v3 * w0[d + j];
      } else {
        for (const kk of ks) {
          const v = x[kk];
          const w = indices[kk] * width;
          for (let j = 0; j < width; j++) out[o + j] += v * w0[w + j];
        }
      }
    }
  }
  return out;
}

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'linear':
      return x;
  }
}

/** d activation / d pre-activation, expressed through the activation's output h. */
export function activationGrad(h: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'tanh':
      return tf.sub(1, tf.square(h));
    case 'relu':
      return tf.cast(tf.greater(h, 0), 'float32');
    case 'sigmoid':
      return tf.mul(h, tf.sub(1, h));
    case 'linear':
      return tf.onesLike(h);
  }
}
