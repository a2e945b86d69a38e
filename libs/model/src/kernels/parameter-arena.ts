import { ADAM_WASM_BASE64 } from './adam-wasm';

const PAGE_BYTES = 65_536;
/** wasm32 addresses 4 GiB: a model whose training state needs more falls back to JS loops. */
const MAX_PAGES = 65_536;
/** Arrays start 16-byte aligned, one SIMD vector. */
const ALIGN_BYTES = 16;

/**
 * One shared WebAssembly memory holding every float array of a training run (parameters, the
 * shards' gradients, Adam's moments), so the wasm Adam kernel can reach them all and worker
 * threads can share them (the memory's buffer is a SharedArrayBuffer). Sized once: a shared
 * memory's views stay valid, but nothing here grows it.
 */
export class ParameterArena {
  private used = 0;

  private constructor(readonly memory: WebAssembly.Memory) {}

  /** An arena for `copies` arrays of each length, or null when they would not fit in 4 GiB. */
  static create(lengths: readonly number[], copies: number): ParameterArena | null {
    const bytes = copies * lengths.reduce((sum, n) => sum + aligned(n * 4), 0);
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    if (pages > MAX_PAGES) return null;
    return new ParameterArena(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }));
  }

  /** A zeroed array of n floats (an allocator for initParams, zerosLike and the like). */
  readonly alloc = (n: number): Float32Array => {
    const bytes = aligned(n * 4);
    if (this.used + bytes > this.memory.buffer.byteLength) throw new RangeError('parameter arena is full');
    const view = new Float32Array(this.memory.buffer, this.used, n);
    this.used += bytes;
    return view;
  };
}

function aligned(bytes: number): number {
  return Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES;
}

/** A weight matrix's transposed copy (cols x rows) that an update keeps equal to it. */
export interface TransposedCopy {
  values: Float32Array;
  /** Of the matrix itself (rows x cols, row-major). */
  cols: number;
}

/** Floats [lo, hi) of one parameter array, with its gradients (one per shard) and Adam's moments. */
export interface AdamSlice {
  w: Float32Array;
  grads: readonly Float32Array[];
  m: Float32Array;
  v: Float32Array;
  lo: number;
  hi: number;
}

/** One step's numbers: the bias-corrected step size, the decay rates and their complements, epsilon, the weight decay. */
export interface AdamCoefficients {
  lr: number;
  b1: number;
  b2: number;
  /** 1 - b1 and 1 - b2. */
  c1: number;
  c2: number;
  eps: number;
  decay: number;
}

/** Adam over a slice of arrays in one arena's memory; see adam-wat.ts for the arithmetic. */
export interface AdamKernel {
  /** False when it cannot: arrays outside its memory, or more gradients than it has variants for (the caller loops in JS). */
  update(slice: AdamSlice, c: AdamCoefficients, transposed?: TransposedCopy): boolean;
}

type AdamExport = (...args: number[]) => void;
type AdamExports = Record<'adam0' | 'adam1' | 'adam2' | 'adam0t' | 'adam1t' | 'adam2t', AdamExport>;
let compiled: WebAssembly.Module | null = null;

/** The kernels instantiated on `memory` (one instance per thread; the module compiles once per thread). */
export function adamKernel(memory: WebAssembly.Memory): AdamKernel {
  compiled ??= new WebAssembly.Module(Buffer.from(ADAM_WASM_BASE64, 'base64'));
  const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as AdamExports;
  const plain = [exports.adam0, exports.adam1, exports.adam2];
  const withTransposed = [exports.adam0t, exports.adam1t, exports.adam2t];
  return {
    update({ w, grads, m, v, lo, hi }, c, transposed) {
      const arrays = [w, m, v, ...grads, ...(transposed ? [transposed.values] : [])];
      if (grads.length >= plain.length || !arrays.every((a) => a.buffer === memory.buffer)) return false;
      const at = (a: Float32Array, k: number) => a.byteOffset + k * 4;
      const run = (from: number, to: number, ...rest: number[]) =>
        (transposed ? withTransposed : plain)[grads.length](
          at(w, from),
          ...grads.map((g) => at(g, from)),
          at(m, from),
          at(v, from),
          ...rest,
          to - from,
          c.lr,
          c.b1,
          c.b2,
          c.c1,
          c.c2,
          c.eps,
          c.decay,
        );
      if (!transposed) {
        if (hi > lo) run(lo, hi);
        return true;
      }
      // row by row: row r's floats go down column r of the transpose
      const { values, cols } = transposed;
      const rows = w.length / cols;
      for (let r = Math.floor(lo / cols); r * cols < hi; r++) {
        const [from, to] = [Math.max(lo, r * cols), Math.min(hi, (r + 1) * cols)];
        if (to > from) run(from, to, at(values, (from - r * cols) * rows + r), rows * 4);
      }
      return true;
    },
  };
}
