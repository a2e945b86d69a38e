import * as tf from '@tensorflow/tfjs';
import { CsrMatrix, transposeCsr } from '../interaction-matrix';
import { DenseWeights, scoreRows, SparseItemWeights } from './item-weights';
import { invertSpd } from './linalg';
import { invertSpdF32 } from './spd-inverse-f32';

export interface EdlaeOptions {
  /** L2 penalty, > 0. */
  lambda: number;
  /** Dropout probability p in [0, 1): adds p / (1 - p) * diag(X^T X) to the penalty. 0 (the default) is EASE. */
  dropout?: number;
}

export interface LinearFitOptions {
  /** Solve items x items (primal) or users x users (dual, Woodbury); `auto` takes the smaller. */
  side?: 'auto' | 'primal' | 'dual';
  /**
   * `float64`: the solve in scalar loops, exact, O(n^3) at well under 1 GFLOP/s, and B in float64: the
   * reference. `float32`: the blocked inverse on tfjs matMul (spd-inverse-f32.ts), B in float32.
   * `auto` (the default): B in float32, the solve in float64 up to FLOAT64_MAX_SOLVE rows, float32
   * beyond, except on the pure-JS `cpu` backend: its matMul (0.6-0.7 GFLOP/s measured) made the
   * blocked inverse slower than the float64 loops there (1.5 against 0.9 CPU s at 1,000 items).
   */
  precision?: 'auto' | 'float32' | 'float64';
}

/** Up to this many rows `auto` solves in float64: well under a second either way. */
export const FLOAT64_MAX_SOLVE = 512;

/**
 * EDLAE, the full-rank linear autoencoder with emphasised denoising (Steck, NeurIPS 2020,
 * "Autoencoders that don't overfit towards the identity"), on binarised X:
 *
 *   B = I - P diagMat(1 / diag(P)),  P = (X^T X + Lambda)^-1,
 *   Lambda = p / (1 - p) diagMat(diag(X^T X)) + lambda I,
 *
 * so diag(B) = 0 and a user's scores are x B. With dropout p = 0 it is EASE (Steck, WWW 2019).
 * With fewer users than items, P comes from the user side (Woodbury, Lambda diagonal, D = Lambda^-1):
 * P = D - D X^T (I + X D X^T)^-1 X D, a users x users solve. Either way B is kept dense, items x items.
 */
export class Edlae {
  private constructor(
    readonly lambda: number,
    readonly dropout: number,
    readonly items: number,
    /** B, row-major items x items. */
    readonly weights: DenseWeights,
  ) {}

  static fit(train: CsrMatrix, options: EdlaeOptions, how: LinearFitOptions = {}): Edlae {
    const [model] = Edlae.fitPath(train, [options], how);
    return model;
  }

  /**
   * One model per options entry, fitted in turn (a generator: one dense B alive at a time if the
   * caller lets each go). On the item side X^T X is computed once for the whole path.
   */
  static *fitPath(train: CsrMatrix, path: readonly EdlaeOptions[], how: LinearFitOptions = {}): Generator<Edlae> {
    for (const o of path) checkOptions(o);
    const items = train.cols;
    const side = how.side === 'primal' || how.side === 'dual' ? how.side : train.rows < items ? 'dual' : 'primal';
    const solveSize = side === 'primal' ? items : train.rows;
    const precision: Precision = {
      solve:
        how.precision === 'float64' ||
        (how.precision !== 'float32' && (solveSize <= FLOAT64_MAX_SOLVE || tf.getBackend() === 'cpu')),
      store: how.precision === 'float64',
    };
    const xt = transposeCsr(train); // item -> users
    const counts = Float64Array.from({ length: items }, (_, i) => xt.indptr[i + 1] - xt.indptr[i]);
    const gram = side === 'primal' ? itemGram(train) : null;
    for (let k = 0; k < path.length; k++) {
      const { lambda, dropout = 0 } = path[k];
      const penalty = counts.map((c) => (dropout / (1 - dropout)) * c + lambda);
      // the last fit may overwrite X^T X: nothing needs it after
      const p = gram
        ? primalInverse(k === path.length - 1 ? gram : gram.slice(), items, penalty, precision)
        : dualInverse(train, xt, penalty, precision);
      yield new Edlae(lambda, dropout, items, weightsFromInverse(p, items));
    }
  }

  /** Scores (rows end - start x items, row-major) from the rows' items (binarised). */
  scores(rows: CsrMatrix, start = 0, end = rows.rows): Float32Array {
    const { items, weights } = this;
    return scoreRows(rows, start, end, items, (i, out) => {
      const from = i * items;
      for (let j = 0; j < items; j++) out[j] += weights[from + j];
    });
  }

  /** B kept to k weights per item (row: outgoing, column: incoming) by magnitude, as CSR (see SparseItemWeights). */
  topK(k: number, by: 'row' | 'column' = 'row'): SparseItemWeights {
    return SparseItemWeights.topK(this.weights, this.items, k, by);
  }
}

/** Whether the solve, and the stored P and B, are float64. */
interface Precision {
  solve: boolean;
  store: boolean;
}

const denseArray = (store: boolean, size: number): DenseWeights =>
  store ? new Float64Array(size) : new Float32Array(size);

function checkOptions({ lambda, dropout = 0 }: EdlaeOptions): void {
  if (!(lambda > 0)) throw new RangeError('lambda must be positive');
  if (!(dropout >= 0 && dropout < 1)) throw new RangeError('dropout must be in [0, 1)');
}

/** X^T X of the binarised rows: co-occurrence counts, exact in float32 up to 2^24. */
function itemGram(x: CsrMatrix): Float32Array {
  const n = x.cols;
  const g = new Float32Array(n * n);
  for (let u = 0; u < x.rows; u++) {
    const from = x.indptr[u];
    const to = x.indptr[u + 1];
    for (let p = from; p < to; p++) {
      const row = x.indices[p] * n;
      for (let q = from; q < to; q++) g[row + x.indices[q]] += 1;
    }
  }
  return g;
}

/** (G + diagMat(penalty))^-1 with G = X^T X, overwriting `gram` on the float32 path. */
function primalInverse(gram: Float32Array, n: number, penalty: Float64Array, precision: Precision): DenseWeights {
  const a = precision.solve ? Float64Array.from(gram) : gram;
  for (let i = 0; i < n; i++) a[i * n + i] += penalty[i];
  if (a instanceof Float32Array) return invertSpdF32(a, n);
  const p = invertSpd(a, n);
  return precision.store ? p : Float32Array.from(p);
}

/** P = D - D X^T K^-1 X D with K = I + X D X^T, D = diagMat(1 / penalty): items x items from a users x users solve. */
function dualInverse(x: CsrMatrix, xt: CsrMatrix, penalty: Float64Array, precision: Precision): DenseWeights {
  const d = penalty.map((v) => 1 / v);
  const m = inverseTimesX(userKernelInverse(x, xt, d, precision.solve), xt, x.rows, precision.store);
  // P row i = d_i e_i - d_i (sum of M's rows of the users who have i) * d, summed in float64
  const items = x.cols;
  const p = denseArray(precision.store, items * items);
  const sum = new Float64Array(items);
  for (let i = 0; i < items; i++) {
    sum.fill(0);
    for (let q = xt.indptr[i]; q < xt.indptr[i + 1]; q++) {
      const mrow = m.subarray(xt.indices[q] * items, (xt.indices[q] + 1) * items);
      for (let j = 0; j < items; j++) sum[j] += mrow[j];
    }
    const prow = i * items;
    for (let j = 0; j < items; j++) p[prow + j] = -d[i] * sum[j] * d[j];
    p[prow + i] += d[i];
  }
  return p;
}

/** K^-1 for K = I + X D X^T (users x users). */
function userKernelInverse(x: CsrMatrix, xt: CsrMatrix, d: Float64Array, float64: boolean): DenseWeights {
  const users = x.rows;
  const k = denseArray(float64, users * users);
  for (let i = 0; i < x.cols; i++) {
    const us = xt.indices.subarray(xt.indptr[i], xt.indptr[i + 1]);
    for (const a of us) for (const b of us) k[a * users + b] += d[i];
  }
  for (let u = 0; u < users; u++) k[u * users + u] += 1;
  return k instanceof Float64Array ? invertSpd(k, users) : invertSpdF32(k, users);
}

/** M = K^-1 X (users x items): column i sums K^-1's columns of the users who have item i. */
function inverseTimesX(kinv: DenseWeights, xt: CsrMatrix, users: number, store: boolean): DenseWeights {
  const items = xt.rows;
  const m = denseArray(store, users * items);
  for (let v = 0; v < users; v++) {
    const krow = v * users;
    const mrow = v * items;
    for (let i = 0; i < items; i++) {
      let s = 0;
      for (let q = xt.indptr[i]; q < xt.indptr[i + 1]; q++) s += kinv[krow + xt.indices[q]];
      m[mrow + i] = s;
    }
  }
  return m;
}

/** B = I - P diagMat(1 / diag(P)), in place: B_ij = -P_ij / P_jj off the diagonal, 0 on it. */
function weightsFromInverse(p: DenseWeights, n: number): DenseWeights {
  const invDiag = Float64Array.from({ length: n }, (_, j) => 1 / p[j * n + j]);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) p[row + j] = -p[row + j] * invDiag[j];
    p[row + i] = 0;
  }
  return p;
}
