import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { filledTensor, readInto, readTransposedInto } from './tensor-read';

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

describe(readTransposedInto.name, () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('copies a matrix as its transpose, across its blocks of rows', () => {
    // 300 rows: more than one block
    const [rows, cols] = [300, 3];
    const t = tf.tensor2d(
      Float32Array.from({ length: rows * cols }, (_, k) => k),
      [rows, cols],
    );
    const target = new Float32Array(rows * cols).fill(NaN);
    readTransposedInto(t, target);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(target[c * rows + r]).toBe(r * cols + c);
    t.dispose();
  });
});

describe(filledTensor.name, () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('holds what its fill wrote, and computes with it', () => {
    const t = filledTensor([2, 3], (values) => values.forEach((_, k) => (values[k] = k + 1)));
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    const product = tf.matMul(t, tf.ones([3, 1]));
    expect(Array.from(product.dataSync())).toEqual([6, 15]);
    tf.dispose([t, product]);
  });
});
