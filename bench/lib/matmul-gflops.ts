import * as tf from '@tensorflow/tfjs';

/** GFLOP/s of one (m x k) @ (k x n) tfjs matMul on the active backend, read back, after a warm-up. */
export function matMulGflops(m: number, k: number, n: number, repeats: number): number {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  tf.matMul(a, b).dispose(); // warm-up
  const t = performance.now();
  for (let r = 0; r < repeats; r++) {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }
  const seconds = (performance.now() - t) / 1000 / repeats;
  a.dispose();
  b.dispose();
  return (2 * m * k * n) / seconds / 1e9;
}
