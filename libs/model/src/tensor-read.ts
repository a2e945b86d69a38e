import * as tf from '@tensorflow/tfjs';

/** What readInto needs of tfjs-backend-wasm's internals (stable across tfjs 4). */
interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array; asm: { memory: WebAssembly.Memory } };
}

/** A float32 tensor's values where they are stored: the wasm heap in place, else a copy. */
function valuesOf(t: tf.Tensor): Float32Array {
  return heapView(t) ?? (t.dataSync() as Float32Array);
}

/**
 * On wasm, a view of a float32 tensor's values in the backend's heap (no copy); else null. Valid
 * until the next tensor is made: a growing heap detaches it.
 */
function heapView(t: tf.Tensor): Float32Array | null {
  const wasm = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmBackendInternals) : null;
  const stored = wasm?.dataIdMap.get(t.dataId);
  return wasm && stored ? new Float32Array(wasm.wasm.HEAPU8.buffer, stored.memoryOffset, t.size) : null;
}

/**
 * On wasm, the backend's memory and where a tensor's values start in it (bytes; stable for the
 * tensor's life, while the memory may grow): what a kernel of our own that reads tensors in place
 * is instantiated with. Null on other backends.
 */
export function wasmHeap(): { memory: WebAssembly.Memory; offsetOf(t: tf.Tensor): number } | null {
  if (tf.getBackend() !== 'wasm') return null;
  const wasm = tf.backend() as unknown as WasmBackendInternals;
  return {
    memory: wasm.wasm.asm.memory,
    offsetOf: (t) => {
      const stored = wasm.dataIdMap.get(t.dataId);
      if (!stored) throw new Error('the tensor is not in the wasm heap (disposed?)');
      return stored.memoryOffset;
    },
  };
}

/**
 * Copies a float32 tensor's values into `target`. On wasm it reads the backend's heap in place:
 * dataSync() would first copy them into a new array, which for a 600 x 6,000 gradient is 14 MB
 * allocated, copied twice and collected per training step.
 */
export function readInto(t: tf.Tensor, target: Float32Array): void {
  if (t.dtype !== 'float32' || target.length !== t.size)
    throw new RangeError(`readInto: a float32 target of ${t.size} values is needed`);
  target.set(valuesOf(t));
}

/** Copies a (rows x cols) float32 tensor into `target` as its transpose, cols x rows row-major. */
export function readTransposedInto(t: tf.Tensor, target: Float32Array): void {
  if (t.dtype !== 'float32' || t.rank !== 2 || target.length !== t.size)
    throw new RangeError(`readTransposedInto: a float32 target of ${t.size} values is needed`);
  const [rows, cols] = t.shape;
  const src = valuesOf(t);
  // in blocks of rows: a block's cols-wide rows stay in cache while each target row is written
  for (let r0 = 0; r0 < rows; r0 += 256) {
    const r1 = Math.min(rows, r0 + 256);
    for (let c = 0; c < cols; c++) {
      const o = c * rows;
      for (let r = r0; r < r1; r++) target[o + r] = src[r * cols + c];
    }
  }
}

/**
 * A new float32 tensor of `shape` whose values `fill` writes. On wasm it writes the backend's heap
 * in place, so a big tensor (a 200k-item layer is 480 MB) never also exists as a JS array.
 */
export function filledTensor(shape: [number, number], fill: (values: Float32Array) => void): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm') {
    const values = new Float32Array(shape[0] * shape[1]);
    fill(values);
    return tf.tensor2d(values, shape);
  }
  const t = tf.zeros<tf.Rank.R2>(shape);
  fill(valuesOf(t));
  return t;
}
