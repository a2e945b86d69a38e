import { CsrMatrix, transposeCsr } from '../interaction-matrix';
import { invertSpd } from './linalg';

/**
 * EASE (Steck, WWW 2019): B = I - P diagMat(1 / diag(P)), P = (X^T X + lambda I)^-1, diag(B) = 0,
 * on binarised X; a user's scores are x B. Exact in Float64.
 *
 * When there are fewer users than items, P comes from the user side (Woodbury):
 * P = (I - X^T (lambda I + X X^T)^-1 X) / lambda, so the solve is users x users, not items x items.
 */
export class Ease {
  private constructor(
    readonly lambda: number,
    private readonly items: number,
    private readonly scoreRow: (row: Int32Array, out: Float64Array) => void,
  ) {}

  static fit(train: CsrMatrix, lambda: number): Ease {
    if (!(lambda > 0)) throw new RangeError('lambda must be positive');
    return train.rows < train.cols ? fitDual(train, lambda) : fitPrimal(train, lambda);
  }

  /** Scores (rows end - start x items, row-major) from the rows' items (binarised). */
  scores(rows: CsrMatrix, start = 0, end = rows.rows): Float32Array {
    const out = new Float32Array((end - start) * this.items);
    const row = new Float64Array(this.items);
    for (let r = start; r < end; r++) {
      row.fill(0);
      this.scoreRow(rows.indices.subarray(rows.indptr[r], rows.indptr[r + 1]), row);
      out.set(row, (r - start) * this.items);
    }
    return out;
  }

  /** Primal and dual on the same data, for tests. */
  static fitWith(train: CsrMatrix, lambda: number, side: 'primal' | 'dual'): Ease {
    return side === 'primal' ? fitPrimal(train, lambda) : fitDual(train, lambda);
  }
}

function fitPrimal(x: CsrMatrix, lambda: number): Ease {
  const n = x.cols;
  const g = new Float64Array(n * n);
  for (let u = 0; u < x.rows; u++) {
    const items = x.indices.subarray(x.indptr[u], x.indptr[u + 1]);
    for (const a of items) for (const b of items) g[a * n + b] += 1;
  }
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  const p = invertSpd(g, n);
  // B_ij = -P_ij / P_jj off the diagonal, 0 on it
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -p[i * n + j] / p[j * n + j];
  }
  return new (Ease as unknown as EaseCtor)(lambda, n, (row, out) => {
    for (const i of row) {
      const from = i * n;
      for (let j = 0; j < n; j++) out[j] += b[from + j];
    }
  });
}

function fitDual(x: CsrMatrix, lambda: number): Ease {
  const users = x.rows;
  const items = x.cols;
  const xt = transposeCsr(x); // item -> users
  // K = X X^T + lambda I
  const k = new Float64Array(users * users);
  for (let i = 0; i < items; i++) {
    const us = xt.indices.subarray(xt.indptr[i], xt.indptr[i + 1]);
    for (const a of us) for (const b of us) k[a * users + b] += 1;
  }
  for (let u = 0; u < users; u++) k[u * users + u] += lambda;
  const kinv = invertSpd(k, users);
  // M = K^-1 X (users x items): column i sums K^-1's columns of the users who have item i
  const m = new Float64Array(users * items);
  for (let u = 0; u < users; u++) {
    for (let q = x.indptr[u]; q < x.indptr[u + 1]; q++) {
      const i = x.indices[q];
      for (let v = 0; v < users; v++) m[v * items + i] += kinv[v * users + u];
    }
  }
  // diag(P)_i = (1 - X[:, i] . M[:, i]) / lambda
  const invDiag = new Float64Array(items);
  for (let i = 0; i < items; i++) {
    let s = 0;
    for (let q = xt.indptr[i]; q < xt.indptr[i + 1]; q++) s += m[xt.indices[q] * items + i];
    invDiag[i] = lambda / (1 - s);
  }
  const c = new Float64Array(users);
  return new (Ease as unknown as EaseCtor)(lambda, items, (row, out) => {
    // x P = (x - (X x)^T M) / lambda; scores = x - (x P) / diag(P)
    c.fill(0);
    for (const i of row) for (let q = xt.indptr[i]; q < xt.indptr[i + 1]; q++) c[xt.indices[q]] += 1;
    for (let u = 0; u < users; u++) {
      const cu = c[u];
      if (cu === 0) continue;
      const from = u * items;
      for (let j = 0; j < items; j++) out[j] += cu * m[from + j];
    }
    // out holds t = c M; scores_j = x_j - (x_j - t_j) / lambda / diag(P)_j
    for (let j = 0; j < items; j++) out[j] = (out[j] / lambda) * invDiag[j];
    for (const i of row) out[i] += 1 - invDiag[i] / lambda;
  });
}

type EaseCtor = new (lambda: number, items: number, scoreRow: (row: Int32Array, out: Float64Array) => void) => Ease;
