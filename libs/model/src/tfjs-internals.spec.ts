import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '@app/random';
import { installedVersion, reliesOn } from '@app/testing/relies-on';
import { initBackend } from './backend';

/**
 * What libs/model relies on in TensorFlow.js beyond its public API, one test each. @tensorflow/* are
 * pinned to exact versions for this: an upgrade is a change of the pins, and these tests say which
 * file to adapt if it moved something.
 */
const WASM = '@tensorflow/tfjs-backend-wasm';

/** The wasm backend's private fields that tensor-read.ts reads (its WasmBackendInternals). */
interface WasmBackendInternals {
  dataIdMap?: { get(dataId: object): { memoryOffset?: unknown } | undefined };
  wasm?: { HEAPU8?: unknown; asm?: { memory?: unknown } };
}
const internals = () => tf.backend() as unknown as WasmBackendInternals;
const offsetOf = (t: tf.Tensor) => internals().dataIdMap!.get(t.dataId)!.memoryOffset as number;
const heap = () => internals().wasm!.HEAPU8 as Uint8Array;

describe('the @tensorflow/* pins', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  const pins = Object.entries({ ...manifest.dependencies, ...manifest.optionalDependencies }).filter(([name]) =>
    name.startsWith('@tensorflow/'),
  );

  it('are exact versions, so nothing below changes without a change of package.json', () => {
    expect(pins.map(([name]) => name).sort()).toEqual([
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-node',
    ]);
    for (const [name, version] of pins) expect(`${name}@${version}`).toMatch(/@\d+\.\d+\.\d+$/);
  });

  it('are what is installed', () => {
    for (const [name, version] of pins) {
      if (name === '@tensorflow/tfjs-node' && !existsSync(join(__dirname, '..', '..', '..', 'node_modules', name)))
        continue; // optional
      expect(`${name}@${installedVersion(name)}`).toBe(`${name}@${version}`);
    }
  });
});

describe(`the private internals of ${WASM} that libs/model reads`, () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it(
    'dataIdMap: where a tensor is stored',
    reliesOn(
      WASM,
      'tensor-read.ts (heapView, wasmHeap)',
      "backend.dataIdMap.get(tensor.dataId).memoryOffset is the byte offset of a live tensor's values in the heap",
      () => {
        const [a, b] = [tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5, 6])];
        const [at, bt] = [offsetOf(a), offsetOf(b)];
        expect(typeof at).toBe('number');
        expect(typeof bt).toBe('number');
        expect(at).not.toBe(bt);
        tf.dispose([a, b]);
      },
    ),
  );

  it(
    'wasm.HEAPU8: the heap',
    reliesOn(
      WASM,
      'tensor-read.ts (heapView)',
      "backend.wasm.HEAPU8 is a Uint8Array over the heap; a float32 tensor's values start at its memoryOffset",
      () => {
        const t = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
        expect(heap()).toBeInstanceOf(Uint8Array);
        expect(Array.from(new Float32Array(heap().buffer, offsetOf(t), 4))).toEqual(Array.from(t.dataSync()));
        t.dispose();
      },
    ),
  );

  it(
    "wasm.asm.memory: the heap's WebAssembly.Memory",
    reliesOn(
      WASM,
      'tensor-read.ts (wasmHeap), used by listed-scores.ts and its kernel',
      'backend.wasm.asm.memory is the WebAssembly.Memory HEAPU8 views, which a kernel of ours is instantiated on',
      () => {
        const memory = internals().wasm!.asm!.memory as WebAssembly.Memory;
        expect(memory).toBeInstanceOf(WebAssembly.Memory);
        expect(memory.buffer).toBe(heap().buffer);
      },
    ),
  );

  it(
    'offsets outlive a growing heap',
    reliesOn(
      WASM,
      'tensor-read.ts (wasmHeap) and listed-scores.ts',
      "a tensor's memoryOffset stays the same when the heap grows (only the buffer is replaced)",
      () => {
        const t = tf.tensor1d([0.5, 1.5, 2.5]);
        const [at, before] = [offsetOf(t), heap().buffer];
        const big = tf.zeros([48 * 2 ** 20]); // 192 MB: more than the heap has spare
        expect(heap().buffer).not.toBe(before);
        expect(offsetOf(t)).toBe(at);
        expect(Array.from(new Float32Array(heap().buffer, at, 3))).toEqual([0.5, 1.5, 2.5]);
        tf.dispose([t, big]);
      },
    ),
  );

  it(
    'tf.zeros writes its own storage',
    reliesOn(
      WASM,
      'tensor-read.ts (filledTensor)',
      'tf.zeros allocates the tensor its own zeroed storage in the heap, which may be written in place before the tensor is used',
      () => {
        const [a, b] = [tf.zeros([3, 2]), tf.zeros([3, 2])];
        expect(offsetOf(a)).not.toBe(offsetOf(b));
        new Float32Array(heap().buffer, offsetOf(a), 6).set([1, 2, 3, 4, 5, 6]);
        expect(Array.from(a.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
        expect(Array.from(b.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
        const product = tf.matMul(a, tf.ones([2, 1]));
        expect(Array.from(product.dataSync())).toEqual([3, 7, 11]);
        tf.dispose([a, b, product]);
      },
    ),
  );

  it(
    'matMul sums in order',
    reliesOn(
      WASM,
      'dae.model.ts (scoresOf, outputLayer), listed-scores.ts and quantised-output.ts',
      "the wasm matMul sums each output over k in order, rounding to float32 at every step, so a sum of our own (the bias as the first term) gives a decode's bits",
      () => {
        const rng = createRng(11);
        // the default model's last hidden width, plus the bias row; widths that are not a multiple of the SIMD lanes
        for (const width of [600, 37]) {
          const [items, rows] = [5, 3];
          const layer = Float32Array.from({ length: items * (width + 1) }, () => rng.normal() * 0.1);
          const hidden = Float32Array.from({ length: (width + 1) * rows }, (_, k) =>
            k < rows ? 1 : Math.tanh(rng.normal()),
          );
          const scores = tf.tidy(() =>
            tf.matMul(tf.tensor2d(layer, [items, width + 1]), tf.tensor2d(hidden, [width + 1, rows])).dataSync(),
          );
          for (let i = 0; i < items; i++) {
            for (let r = 0; r < rows; r++) {
              let acc = 0;
              for (let k = 0; k <= width; k++)
                acc = Math.fround(acc + Math.fround(layer[i * (width + 1) + k] * hidden[k * rows + r]));
              expect(scores[i * rows + r]).toBe(acc);
            }
          }
        }
      },
    ),
  );

  it(
    'the .wasm files beside the entry point',
    reliesOn(
      WASM,
      'backend.ts',
      "the package's main entry sits in the folder that holds its .wasm files (setWasmPaths is pointed there), and the WASM_HAS_SIMD_SUPPORT flag is registered",
      async () => {
        const dist = dirname(require.resolve(WASM));
        for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'])
          expect(existsSync(join(dist, file))).toBe(true);
        expect(typeof (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))).toBe('boolean');
      },
    ),
  );
});
