import { createRng } from '@app/random';

/**
 * A linear map of embeddings onto their first principal components: the low-dimensional map of
 * users or items (for plots, clustering, a glance at what the model learned). Fitted once per
 * model version; any vector of the same kind can be placed on it later, so a user folded in after
 * training lands on the same map as everyone else.
 */
export interface EmbeddingMap {
  /** Dimension of the vectors the map takes. */
  dim: number;
  /** Vectors are scaled to unit length first (item vectors, compared by cosine). */
  normalize: boolean;
  mean: number[];
  /** Unit-length, mutually orthogonal directions, the largest variance first. */
  components: number[][];
  /** Each component's share of the vectors' total variance. */
  explainedVariance: number[];
  /** Vectors the map was fitted on (a spread sample when there are many). */
  rows: number;
}

/** Vectors fitted at most: the map of a sample this size is as good as the full one for a plot. */
export const MAP_SAMPLE_ROWS = 20_000;
/** Multiply-adds a fit may spend on its sums (dim^2 / 2 a vector): about a second of a core at any dim. */
const FIT_BUDGET = 1e9;
/** Sampled vectors whose outer products are summed in one pass over the sums. */
const BLOCK_ROWS = 64;
/** Fewest vectors sampled, however wide they are. */
const MIN_SAMPLE_ROWS = 1_000;

/** How many vectors of this width a fit samples at most. */
export function mapSampleRows(dim: number): number {
  return Math.min(MAP_SAMPLE_ROWS, Math.max(MIN_SAMPLE_ROWS, Math.floor((2 * FIT_BUDGET) / (dim * dim))));
}

/**
 * Streams vectors into the sums a PCA needs (count, sum, sum of outer products), so a map of
 * every user is fitted while they are encoded chunk by chunk, never all held at once. With more
 * than `maxRows` vectors, every `stride`-th row is taken: an even spread, the same on every run.
 * The default sample shrinks as the vectors widen, so a fit costs about the same at any width.
 */
export class EmbeddingMapFitter {
  private readonly stride: number;
  private readonly sum: Float64Array;
  private readonly outer: Float64Array;
  private rows = 0;
  /** Sampled rows not yet in `outer`, dimension-major: `block[d * BLOCK_ROWS + r]`. */
  private readonly block: Float64Array;
  private blockRows = 0;

  constructor(
    private readonly dim: number,
    totalRows: number,
    private readonly normalize = false,
    maxRows = mapSampleRows(dim),
  ) {
    this.stride = Math.max(1, Math.ceil(totalRows / maxRows));
    this.sum = new Float64Array(dim);
    this.outer = new Float64Array(dim * dim);
    this.block = new Float64Array(dim * BLOCK_ROWS);
  }

  /** Rows `first ..` of the whole sequence, row-major. */
  add(vectors: Float32Array, first = 0): void {
    const { dim, block } = this;
    const count = vectors.length / dim;
    // the first row of this block that falls on the stride
    for (let r = (this.stride - (first % this.stride)) % this.stride; r < count; r += this.stride) {
      let scale = 1;
      if (this.normalize) {
        let norm = 0;
        for (let d = 0; d < dim; d++) norm += vectors[r * dim + d] ** 2;
        if (norm === 0) continue;
        scale = 1 / Math.sqrt(norm);
      }
      for (let d = 0; d < dim; d++) {
        const x = vectors[r * dim + d] * scale;
        block[d * BLOCK_ROWS + this.blockRows] = x;
        this.sum[d] += x;
      }
      this.rows++;
      if (++this.blockRows === BLOCK_ROWS) this.flush();
    }
  }

  /**
   * Adds the buffered rows' outer products to `outer`. A block at a time, not a row: the sums of a
   * 600-wide vector are 2.9 MB, past the cache: a pass over them per row is bound by memory.
   */
  private flush(): void {
    const { dim, block, outer } = this;
    const n = this.blockRows;
    for (let a = 0; a < dim; a++) {
      const ca = a * BLOCK_ROWS;
      // upper triangle only; fit() mirrors it
      for (let b = a; b < dim; b++) {
        const cb = b * BLOCK_ROWS;
        let s = 0;
        for (let r = 0; r < n; r++) s += block[ca + r] * block[cb + r];
        outer[a * dim + b] += s;
      }
    }
    this.blockRows = 0;
  }

  /** The first `components` principal directions; null without two vectors to spread. */
  fit(components = 2): EmbeddingMap | null {
    if (this.blockRows > 0) this.flush();
    const { dim, rows } = this;
    const k = Math.min(components, dim);
    if (rows < 2) return null;
    const mean = Array.from(this.sum, (s) => s / rows);
    const cov = new Float64Array(dim * dim);
    for (let a = 0; a < dim; a++) {
      for (let b = a; b < dim; b++) {
        const c = (this.outer[a * dim + b] - rows * mean[a] * mean[b]) / (rows - 1);
        cov[a * dim + b] = c;
        cov[b * dim + a] = c;
      }
    }
    let total = 0;
    for (let d = 0; d < dim; d++) total += cov[d * dim + d];
    const { vectors, values } = topEigenvectors(cov, dim, k);
    return {
      dim,
      normalize: this.normalize,
      mean,
      components: vectors,
      explainedVariance: values.map((v) => (total > 0 ? Math.max(0, v) / total : 0)),
      rows,
    };
  }
}

/** A map of a block of vectors held in memory (the item vectors). */
export function fitEmbeddingMap(
  vectors: Float32Array,
  dim: number,
  options: { components?: number; normalize?: boolean; maxRows?: number } = {},
): EmbeddingMap | null {
  const fitter = new EmbeddingMapFitter(dim, vectors.length / dim, options.normalize, options.maxRows);
  fitter.add(vectors);
  return fitter.fit(options.components);
}

/** Where a vector lands on the map: one coordinate per component. */
export function projectOnMap(map: EmbeddingMap, vector: ArrayLike<number>): number[] {
  if (vector.length !== map.dim) throw new Error(`expected a vector of ${map.dim}, got ${vector.length}`);
  let scale = 1;
  if (map.normalize) {
    let norm = 0;
    for (let d = 0; d < map.dim; d++) norm += vector[d] ** 2;
    scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  }
  return map.components.map((c) => {
    let x = 0;
    for (let d = 0; d < map.dim; d++) x += (vector[d] * scale - map.mean[d]) * c[d];
    return x;
  });
}

/**
 * Power steps at most. Real embeddings have a clear gap after their first components and settle in
 * tens of steps; a spectrum with none (noise) would take thousands, for directions that are all
 * as good as each other on a plot, so the search stops here (~3 s for 600-wide vectors).
 */
const MAX_STEPS = 300;
/** Power steps between two Rayleigh-Ritz steps (each one costs as much as a power step). */
const STEPS_PER_CHECK = 5;
/** Extra directions iterated beside the wanted ones: convergence then depends on a wider gap. */
const OVERSAMPLE = 8;
/** Settled when |A v - lambda v| is this small against the largest eigenvalue. */
const TOLERANCE = 1e-9;

/**
 * The k largest eigenvalues of a symmetric matrix and their unit eigenvectors, by orthogonal
 * (subspace) iteration with Rayleigh-Ritz steps: a few matrix-vector products per step instead of
 * a full O(n^3) decomposition of a 600 x 600 covariance. Seeded start, and each vector's sign
 * fixed (largest entry positive): the same matrix gives the same map on every run.
 */
export function topEigenvectors(a: Float64Array, n: number, k: number): { vectors: number[][]; values: number[] } {
  const q = Math.min(n, k + OVERSAMPLE);
  const rng = createRng(7);
  let basis: Float64Array[] = Array.from({ length: q }, () => Float64Array.from({ length: n }, () => rng.next() - 0.5));
  orthonormalise(basis);
  let ritz = rayleighRitz(a, n, basis);
  for (let step = 0; step < MAX_STEPS; step += STEPS_PER_CHECK) {
    // the first power step is A times the last Ritz vectors, which rayleighRitz already holds
    basis = ritz.products.map((p) => Float64Array.from(p));
    orthonormalise(basis);
    for (let i = 1; i < STEPS_PER_CHECK; i++) {
      basis = basis.map((v) => multiply(a, n, v));
      orthonormalise(basis);
    }
    ritz = rayleighRitz(a, n, basis);
    if (residual(ritz, k) < TOLERANCE) break;
  }
  const vectors = ritz.vectors.slice(0, k).map((v) => {
    let big = 0;
    for (let d = 0; d < n; d++) if (Math.abs(v[d]) > Math.abs(v[big])) big = d;
    const sign = v[big] < 0 ? -1 : 1;
    return Array.from(v, (x) => x * sign);
  });
  return { vectors, values: ritz.values.slice(0, k) };
}

/** The largest |A v - lambda v| of the first k Ritz pairs, against the largest eigenvalue. */
function residual(ritz: Ritz, k: number): number {
  const scale = Math.max(Math.abs(ritz.values[0]), 1e-300);
  let worst = 0;
  for (let j = 0; j < k; j++) {
    const v = ritz.vectors[j];
    const av = ritz.products[j];
    let r2 = 0;
    for (let d = 0; d < v.length; d++) r2 += (av[d] - ritz.values[j] * v[d]) ** 2;
    worst = Math.max(worst, Math.sqrt(r2) / scale);
  }
  return worst;
}

/** Ritz vectors, their values, and A times each vector. */
interface Ritz {
  vectors: Float64Array[];
  values: number[];
  products: Float64Array[];
}

function multiply(a: Float64Array, n: number, v: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    const base = r * n;
    for (let c = 0; c < n; c++) s += a[base + c] * v[c];
    out[r] = s;
  }
  return out;
}

/** Modified Gram-Schmidt, twice (once loses orthogonality on nearly parallel vectors). */
function orthonormalise(vs: Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < vs.length; i++) {
      for (let j = 0; j < i; j++) {
        const d = dot(vs[i], vs[j]);
        for (let x = 0; x < vs[i].length; x++) vs[i][x] -= d * vs[j][x];
      }
      const norm = Math.sqrt(dot(vs[i], vs[i]));
      // a direction the matrix maps to nothing: any unit vector orthogonal to the rest will do
      if (norm < 1e-150) vs[i].fill(0)[i % vs[i].length] = 1;
      else for (let x = 0; x < vs[i].length; x++) vs[i][x] /= norm;
    }
  }
}

/** The best k-dimensional eigen-approximation within span(vs): vs^T A vs diagonalised by Jacobi. */
function rayleighRitz(a: Float64Array, n: number, vs: Float64Array[]): Ritz {
  const q = vs.length;
  const av = vs.map((v) => multiply(a, n, v));
  const small = new Float64Array(q * q);
  for (let i = 0; i < q; i++) for (let j = 0; j < q; j++) small[i * q + j] = dot(vs[i], av[j]);
  const { values, vectors: rot } = jacobiEigen(small, q);
  const order = values.map((_, i) => i).sort((x, y) => values[y] - values[x]);
  // the same rotation of A vs is A times the Ritz vectors: the residual check and the next power step need no product of their own
  const rotate = (from: Float64Array[], i: number) => {
    const out = new Float64Array(n);
    for (let j = 0; j < q; j++) {
      const w = rot[j * q + i];
      for (let x = 0; x < n; x++) out[x] += w * from[j][x];
    }
    return out;
  };
  return {
    values: order.map((i) => values[i]),
    vectors: order.map((i) => rotate(vs, i)),
    products: order.map((i) => rotate(av, i)),
  };
}

/** Cyclic Jacobi for a small symmetric matrix: eigenvalues and eigenvectors (columns of `vectors`). */
function jacobiEigen(m: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let r = p + 1; r < n; r++) off += a[p * n + r] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let r = p + 1; r < n; r++) {
        const apr = a[p * n + r];
        if (Math.abs(apr) < 1e-300) continue;
        const theta = (a[r * n + r] - a[p * n + p]) / (2 * apr);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let i = 0; i < n; i++) {
          const aip = a[i * n + p];
          const air = a[i * n + r];
          a[i * n + p] = c * aip - s * air;
          a[i * n + r] = s * aip + c * air;
        }
        for (let i = 0; i < n; i++) {
          const api = a[p * n + i];
          const ari = a[r * n + i];
          a[p * n + i] = c * api - s * ari;
          a[r * n + i] = s * api + c * ari;
        }
        for (let i = 0; i < n; i++) {
          const vip = v[i * n + p];
          const vir = v[i * n + r];
          v[i * n + p] = c * vip - s * vir;
          v[i * n + r] = s * vip + c * vir;
        }
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}
