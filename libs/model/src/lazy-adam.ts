import { AdamCoefficients } from './kernels/parameter-arena';

/**
 * Lazy (row-wise) Adam, as TensorFlow's LazyAdam: only the rows a batch touched move, and the
 * moments of the other rows do not decay. For the sparse input layer and the sampled output layer
 * of a large catalogue, where a dense step over every row would cost items x width per batch and
 * undo the point of sampling. The step size keeps the global step's bias correction (`c.lr`).
 *
 * Row `rows[s]` of `w`, `m` and `v` (each `width` wide) takes gradient row s of `grad`; `only`, when
 * given, skips the slots where it is 0.
 */
export function lazyAdamRows(
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  grad: Float32Array,
  rows: Int32Array,
  count: number,
  width: number,
  c: AdamCoefficients,
  only?: Uint8Array,
): void {
  const { lr, b1, b2, c1, c2, eps, decay } = c;
  for (let s = 0; s < count; s++) {
    if (only && only[s] === 0) continue;
    const at = rows[s] * width;
    const from = s * width;
    for (let j = 0; j < width; j++) {
      const k = at + j;
      const g = grad[from + j] + decay * w[k];
      const mk = b1 * m[k] + c1 * g;
      const vk = b2 * v[k] + c2 * g * g;
      m[k] = mk;
      v[k] = vk;
      w[k] -= (lr * mk) / (Math.sqrt(vk) + eps);
    }
  }
}
