import * as tf from '@tensorflow/tfjs';
import { DOT_F32_LISTED_WASM_BASE64 } from './kernels/dot-f32-listed-wasm';
import { wasmHeap } from './tensor-read';

/** Listed items scored per kernel call, at most: the scratch holds their indices and scores. */
const MAX_CHUNK = 65_536;

type ListedKernel = (
  rows: number,
  stride: number,
  hidden: number,
  width: number,
  list: number,
  count: number,
  withBias: number,
  out: number,
) => void;

/**
 * Exact output-layer scores of a few listed items per hidden row, on the wasm backend: a kernel of
 * our own (dot_f32_listed) reads the items' rows in the decoder's item-major layer where the
 * backend keeps it, and sums each score as the backend's matMul does, so a decode's bits. About
 * ten times the plain JS loop with a float32 rounding per step, which ranking's exact rescoring
 * of its candidates spent a third of a fold-in's time in.
 */
export class ListedScores {
  private constructor(
    private readonly heap: NonNullable<ReturnType<typeof wasmHeap>>,
    private readonly kernel: ListedKernel,
    /** items x (width + 1): each item's bias then its weights (DaeModel's output tensor). */
    private readonly rows: tf.Tensor2D,
    /** A hidden row, then up to `chunk` item indices, then as many scores. */
    private readonly scratch: tf.Tensor1D,
    private readonly width: number,
    private readonly chunk: number,
  ) {}

  /** For the layer `rows` (not owned: the caller disposes it after this); null off wasm. */
  static of(rows: tf.Tensor2D): ListedScores | null {
    const heap = wasmHeap();
    if (!heap) return null;
    const [items, stride] = rows.shape;
    const chunk = Math.max(4, Math.min(items, MAX_CHUNK));
    compiled ??= new WebAssembly.Module(Buffer.from(DOT_F32_LISTED_WASM_BASE64, 'base64'));
    const kernel = new WebAssembly.Instance(compiled, { env: { memory: heap.memory } }).exports
      .dot_f32_listed as ListedKernel;
    return new ListedScores(heap, kernel, rows, tf.keep(tf.zeros([stride - 1 + 2 * chunk])), stride - 1, chunk);
  }

  /** Scores of `list`'s items (indices into the layer) from the hidden row at hidden[at, at + width). */
  scores(hidden: Float32Array, at: number, list: ArrayLike<number>, withBias: boolean): Float32Array {
    const { width, chunk } = this;
    const items = this.rows.shape[0];
    const out = new Float32Array(list.length);
    // offsets hold while the memory grows; views are taken now, after the last tensor was made
    const [rowsAt, hiddenAt] = [this.heap.offsetOf(this.rows), this.heap.offsetOf(this.scratch)];
    const [listAt, outAt] = [hiddenAt + 4 * width, hiddenAt + 4 * (width + chunk)];
    const buffer = this.heap.memory.buffer;
    new Float32Array(buffer, hiddenAt, width).set(hidden.subarray(at, at + width));
    const indices = new Int32Array(buffer, listAt, chunk);
    const values = new Float32Array(buffer, outAt, chunk);
    for (let n0 = 0; n0 < list.length; n0 += chunk) {
      const count = Math.min(chunk, list.length - n0);
      for (let n = 0; n < count; n++) {
        const item = list[n0 + n];
        // the kernel reads whatever memory an index points at: an item out of range must not reach it
        if (!(item >= 0 && item < items && Number.isInteger(item)))
          throw new RangeError(`item ${item} is not in the layer's ${items}`);
        indices[n] = item;
      }
      this.kernel(rowsAt, 4 * (width + 1), hiddenAt, width, listAt, count, withBias ? 1 : 0, outAt);
      out.set(values.subarray(0, count), n0);
    }
    return out;
  }

  dispose(): void {
    this.scratch.dispose();
  }
}

let compiled: WebAssembly.Module | null = null;
