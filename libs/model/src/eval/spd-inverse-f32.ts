import * as tf from '@tensorflow/tfjs';
import { cholesky, invertLower } from './linalg';

/**
 * In-place float32 inverse of a symmetric positive-definite n x n matrix (row-major), blocked so
 * that nearly all of its ~n^3 flops are large matrix products, run by tfjs `matMul`:
 *
 *   1. A = L L^T      right-looking Cholesky (LAPACK potrf)     n^3/3 flops
 *   2. L := L^-1      backward block-column sweep (trtri)       n^3/3
 *   3. P = L^-T L^-1  lower triangle of X^T X, X = L^-1 (lauum)  n^3/3
 *
 * Only the diagonal blocks (`block` wide) are factored and inverted in float64 by linalg.ts. One
 * n x n array (the argument, overwritten) plus panels of n x block and row chunks: the tensors
 * are tiles (at most 1024 x n), so the wasm heap holds tens of MB whatever n.
 *
 * Why tfjs matMul and not a kernel of our own: on the wasm backend it is XNNPACK's SIMD GEMM,
 * measured at 38-45 GFLOP/s per CPU second on this machine's EPYC (512-1024 squared), near the
 * ~48 a core can issue with 128-bit wasm SIMD and separate multiply and add (no FMA outside relaxed
 * SIMD), so a hand-written WAT GEMM (a few percent at best, by that count) was not built. It runs
 * on every tfjs backend: on the pure-JS `cpu` one (0.6-0.7 GFLOP/s) the float64
 * loops are as fast, and Edlae's `auto` precision takes them there.
 * The wasm backend runs one thread in Node (backend.ts), so this is one core's worth.
 *
 * A matrix that is not positive definite throws, naming the pivot, and leaves `a` part-overwritten.
 *
 * Tensors are disposed by hand rather than in tf.tidy: the same 512^3 product measured 10x slower
 * inside a tidy scope on the wasm backend (70-125 ms against 7 ms).
 */
export function invertSpdF32(a: Float32Array, n: number, tiling: Partial<Tiling> = {}): Float32Array {
  if (a.length !== n * n) throw new RangeError(`expected ${n} x ${n} values, got ${a.length}`);
  const t: Tiling = { ...DEFAULT_TILING, ...tiling };
  choleskyInPlace(a, n, t);
  zeroStrictUpper(a, n);
  invertLowerInPlace(a, n, t);
  lowerGramInPlace(a, n, t);
  mirrorLower(a, n);
  return a;
}

/** Tile sizes; the defaults were measured on the wasm backend, tests pass small ones to cover every edge. */
export interface Tiling {
  /** Diagonal block width: the float64 work per block is block^3, the products' inner size `block`. */
  block: number;
  /** Rows per product in the first two phases: the rectangle computed past the triangle is ~rowChunk / n. */
  rowChunk: number;
  /**
   * Rows of X below the block row per product in the last phase: its inner size. XNNPACK measured
   * 38-44 GFLOP/s at inner sizes up to 1024 but 24 at 4096 x 4096 operands (out of cache).
   */
  belowChunk: number;
}

const DEFAULT_TILING: Tiling = { block: 256, rowChunk: 512, belowChunk: 1024 };

function choleskyInPlace(a: Float32Array, n: number, { block: bs, rowChunk }: Tiling): void {
  for (let k0 = 0; k0 < n; k0 += bs) {
    const b = Math.min(bs, n - k0);
    const k1 = k0 + b;
    const m = n - k1;
    const l11 = cholesky(lowerBlock64(a, n, k0, b), b, k0);
    writeLowerBlock(a, n, k0, b, l11);
    if (m === 0) break;
    // L21 = A21 L11^-T
    const l21 = productOf(copyBlock(a, n, k1, n, k0, k1), [m, b], transpose(toF32(invertLower(l11, b)), b, b), [b, b]);
    pasteBlock(a, n, k1, k0, l21, b);
    // A22 -= L21 L21^T, chunk by chunk of rows, each only up to its last column in the lower triangle
    const l21Rows = tf.tensor2d(l21, [m, b]);
    const l21Cols = tf.tensor2d(transpose(l21, m, b), [b, m]);
    try {
      for (let r0 = 0; r0 < m; r0 += rowChunk) {
        const r1 = Math.min(m, r0 + rowChunk);
        const lhs = l21Rows.slice([r0, 0], [r1 - r0, b]);
        const rhs = l21Cols.slice([0, 0], [b, r1]);
        const update = readProduct(lhs, rhs);
        lhs.dispose();
        rhs.dispose();
        addBlock(a, n, k1 + r0, k1, update, r1, -1);
      }
    } finally {
      l21Rows.dispose();
      l21Cols.dispose();
    }
  }
}

/** L := L^-1, last block column first: X21 = -X22 L21 X11 needs X22 already inverted. */
function invertLowerInPlace(a: Float32Array, n: number, { block: bs, rowChunk }: Tiling): void {
  const starts = Array.from({ length: Math.ceil(n / bs) }, (_, s) => s * bs);
  for (const j0 of starts.reverse()) {
    const b = Math.min(bs, n - j0);
    const j1 = j0 + b;
    const m = n - j1;
    const x11 = invertLower(lowerBlock64(a, n, j0, b), b);
    if (m > 0) {
      const l21 = tf.tensor2d(copyBlock(a, n, j1, n, j0, j1), [m, b]);
      const q = new Float32Array(m * b);
      try {
        for (let r0 = 0; r0 < m; r0 += rowChunk) {
          const r1 = Math.min(m, r0 + rowChunk);
          // X22's rows r0..r1 stop at column r1: past it they are zero (lower triangular)
          const x22 = tf.tensor2d(copyBlock(a, n, j1 + r0, j1 + r1, j1, j1 + r1), [r1 - r0, r1]);
          const top = l21.slice([0, 0], [r1, b]);
          q.set(readProduct(x22, top), r0 * b);
          x22.dispose();
          top.dispose();
        }
      } finally {
        l21.dispose();
      }
      pasteBlock(a, n, j1, j0, productOf(q, [m, b], toF32(x11, -1), [b, b]), b);
    }
    writeLowerBlock(a, n, j0, b, x11);
  }
}

/**
 * Lower triangle of X^T X for lower-triangular X, in place, first block row first (each block row
 * of the result needs only its own and later rows of X):
 * P[i-block, 0..i1] = X_ii^T X[i-block, 0..i1] + X[below, i-block]^T X[below, 0..i1].
 */
function lowerGramInPlace(a: Float32Array, n: number, { block: bs, belowChunk }: Tiling): void {
  for (let i0 = 0; i0 < n; i0 += bs) {
    const b = Math.min(bs, n - i0);
    const i1 = i0 + b;
    const out = productOf(transpose(toF32(lowerBlock64(a, n, i0, b)), b, b), [b, b], copyBlock(a, n, i0, i1, 0, i1), [
      b,
      i1,
    ]);
    for (let s0 = i1; s0 < n; s0 += belowChunk) {
      const s1 = Math.min(n, s0 + belowChunk);
      const below = tf.tensor2d(copyBlock(a, n, s0, s1, 0, i1), [s1 - s0, i1]);
      const columnT = tf.tensor2d(transpose(copyBlock(a, n, s0, s1, i0, i1), s1 - s0, b), [b, s1 - s0]);
      const add = readProduct(columnT, below);
      below.dispose();
      columnT.dispose();
      for (let k = 0; k < out.length; k++) out[k] += add[k];
    }
    for (let r = 0; r < b; r++) a.set(out.subarray(r * i1, r * i1 + i0 + r + 1), (i0 + r) * n);
  }
}

/**
 * x y of two tensors, read back; the caller keeps x and y. Never with matMul's transpose flags:
 * on the wasm backend those take a naive loop, not XNNPACK (0.4-1.8 against 40 GFLOP/s measured),
 * so operands are transposed in JS, which costs O(size) against the product's O(size * block).
 */
function readProduct(x: tf.Tensor2D, y: tf.Tensor2D): Float32Array {
  const p = tf.matMul(x, y);
  try {
    return p.dataSync() as Float32Array;
  } finally {
    p.dispose();
  }
}

/** The product of two row-major arrays of the given shapes. */
export function productOf(
  x: Float32Array,
  xShape: [number, number],
  y: Float32Array,
  yShape: [number, number],
): Float32Array {
  const xt = tf.tensor2d(x, xShape);
  const yt = tf.tensor2d(y, yShape);
  try {
    return readProduct(xt, yt);
  } finally {
    xt.dispose();
    yt.dispose();
  }
}

/** Rows r0..r1, columns c0..c1 of a, as a new row-major array. */
function copyBlock(a: Float32Array, n: number, r0: number, r1: number, c0: number, c1: number): Float32Array {
  const w = c1 - c0;
  const out = new Float32Array((r1 - r0) * w);
  for (let r = r0; r < r1; r++) out.set(a.subarray(r * n + c0, r * n + c1), (r - r0) * w);
  return out;
}

/** Writes a row-major block `width` wide at (r0, c0). */
function pasteBlock(a: Float32Array, n: number, r0: number, c0: number, block: Float32Array, width: number): void {
  for (let r = 0; r * width < block.length; r++) a.set(block.subarray(r * width, (r + 1) * width), (r0 + r) * n + c0);
}

/** a[r0 + r, c0 + c] += sign * block[r, c] for a row-major block `width` wide. */
function addBlock(
  a: Float32Array,
  n: number,
  r0: number,
  c0: number,
  block: Float32Array,
  width: number,
  sign: number,
): void {
  for (let r = 0; r * width < block.length; r++) {
    const to = (r0 + r) * n + c0;
    const from = r * width;
    for (let c = 0; c < width; c++) a[to + c] += sign * block[from + c];
  }
}

/** The lower triangle of the b x b diagonal block at k0, in float64 (upper zero). */
function lowerBlock64(a: Float32Array, n: number, k0: number, b: number): Float64Array {
  const out = new Float64Array(b * b);
  for (let r = 0; r < b; r++) for (let c = 0; c <= r; c++) out[r * b + c] = a[(k0 + r) * n + k0 + c];
  return out;
}

/** Writes a lower-triangular block at (k0, k0), zeroing its upper part. */
function writeLowerBlock(a: Float32Array, n: number, k0: number, b: number, block: Float64Array): void {
  for (let r = 0; r < b; r++) for (let c = 0; c < b; c++) a[(k0 + r) * n + k0 + c] = c <= r ? block[r * b + c] : 0;
}

/** The transpose of a row-major rows x cols array. */
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

function toF32(x: Float64Array, scale = 1): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = scale * x[k];
  return out;
}

function zeroStrictUpper(a: Float32Array, n: number): void {
  for (let r = 0; r < n; r++) a.fill(0, r * n + r + 1, (r + 1) * n);
}

/** Upper triangle := lower, in tiles so both sides stay in cache. */
function mirrorLower(a: Float32Array, n: number): void {
  const tile = 64;
  for (let r0 = 0; r0 < n; r0 += tile) {
    for (let c0 = 0; c0 <= r0; c0 += tile) {
      const r1 = Math.min(n, r0 + tile);
      const c1 = Math.min(n, c0 + tile);
      for (let r = r0; r < r1; r++) for (let c = c0; c < Math.min(c1, r); c++) a[c * n + r] = a[r * n + c];
    }
  }
}
