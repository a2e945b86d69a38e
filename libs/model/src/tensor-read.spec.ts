import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { readInto } from './tensor-read';

describe(readInto.name, () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('copies the values of a computed tensor, wherever the backend keeps it', () => {
    // several live tensors, so the product does not sit at the start of the backend's memory
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2]);
    const product = tf.matMul(a, b);
    const target = new Float32Array(4).fill(NaN);
    readInto(product, target);
    expect(Array.from(target)).toEqual([58, 64, 139, 154]);
    tf.dispose([a, b, product]);
  });

  it('refuses a target of the wrong size instead of copying part of the tensor', () => {
    const t = tf.ones([3]);
    expect(() => readInto(t, new Float32Array(2))).toThrow(RangeError);
    t.dispose();
  });
});
