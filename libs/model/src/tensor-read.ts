import * as tf from '@tensorflow/tfjs';

/** What readInto needs of tfjs-backend-wasm's internals (stable across tfjs 4). */
interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/**
 * Copies a float32 tensor's values into `target`. On wasm it reads the backend's heap in place:
 * dataSync() would first copy them into a new array, which for a 600 x 6,000 gradient is 14 MB
 * allocated, copied twice and collected per training step.
 */
export function readInto(t: tf.Tensor, target: Float32Array): void {
  if (t.dtype !== 'float32' || target.length !== t.size) throw new RangeError(`readInto: a float32 target of ${t.size} values is needed`);
  const wasm = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmBackendInternals) : null;
  const stored = wasm?.dataIdMap.get(t.dataId);
  if (wasm && stored) target.set(new Float32Array(wasm.wasm.HEAPU8.buffer, stored.memoryOffset, t.size));
  else target.set(t.dataSync() as Float32Array);
}
