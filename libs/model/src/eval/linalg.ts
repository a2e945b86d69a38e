/**
 * Dense Float64 linear algebra for the linear baselines: Cholesky factorisation and the inverse of a
 * symmetric positive-definite matrix, row-major n x n. O(n^3) scalar loops: the reference, fine up
 * to several hundred rows; spd-inverse-f32.ts is the fast blocked path, built on these for its
 * diagonal blocks.
 */

/**
 * Lower-triangular L with A = L L^T, in a new array (upper triangle zero). Throws if A is not SPD;
 * `pivotOffset` numbers the failing pivot within a larger matrix A is a diagonal block of.
 */
export function cholesky(a: Float64Array, n: number, pivotOffset = 0): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j];
    for (let k = 0; k < j; k++) d -= l[rowJ + k] * l[rowJ + k];
    if (!(d > 0)) throw new Error(`matrix is not positive definite (pivot ${pivotOffset + j})`);
    const ljj = Math.sqrt(d);
    l[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= l[rowI + k] * l[rowJ + k];
      l[rowI + j] = s / ljj;
    }
  }
  return l;
}

/** L^-1 of a lower-triangular L, by forward substitution column by column (row-major, upper zero). */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const li = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    li[i * n + i] = 1 / l[i * n + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * n + k] * li[k * n + j];
      li[i * n + j] = -s / l[i * n + i];
    }
  }
  return li;
}

/** A^-1 for SPD A, through A = L L^T: A^-1 = L^-T L^-1. */
export function invertSpd(a: Float64Array, n: number): Float64Array {
  const li = invertLower(cholesky(a, n), n);
  // A^-1 = (L^-1)^T L^-1: entry (i, j) = sum_{k >= max(i,j)} li[k][i] li[k][j]
  const inv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const row = k * n;
    for (let i = 0; i <= k; i++) {
      const v = li[row + i];
      if (v === 0) continue;
      const out = i * n;
      for (let j = 0; j <= k; j++) inv[out + j] += v * li[row + j];
    }
  }
  return inv;
}
