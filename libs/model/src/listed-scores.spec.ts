import * as tf from '@tensorflow/tfjs';
import { createRng } from '@app/random';
import { initBackend } from './backend';
import { ListedScores } from './listed-scores';

describe(ListedScores.name, () => {
  const rng = createRng(5);
  // a width that is not a multiple of 4, and few items: lists longer than the layer run in chunks
  const [items, width] = [9, 37];
  const layer = Float32Array.from({ length: items * (width + 1) }, () => (rng.next() - 0.5) * 3);
  const hidden = Float32Array.from({ length: 2 * width }, () => Math.tanh((rng.next() - 0.5) * 4));

  /** The decoder's sum of one item: bias first, each product and step rounded to float32. */
  const reference = (r: number, item: number, withBias: boolean) => {
    const row = item * (width + 1);
    let acc = withBias ? layer[row] : 0;
    for (let k = 0; k < width; k++) acc = Math.fround(acc + Math.fround(layer[row + 1 + k] * hidden[r * width + k]));
    return acc;
  };

  let rows: tf.Tensor2D;
  let listed: ListedScores;
  beforeAll(async () => {
    await initBackend('wasm');
    rows = tf.tensor2d(layer, [items, width + 1]);
    listed = ListedScores.of(rows)!;
  });
  afterAll(() => {
    listed.dispose();
    rows.dispose();
  });

  it("gives each listed item the bits of the decoder's sum, with and without the bias", () => {
    // every length from empty to three chunks (quads, remainders, repeats)
    for (let length = 0; length <= 3 * items + 2; length++) {
      const list = Array.from({ length }, () => rng.int(items));
      for (const withBias of [true, false]) {
        for (const r of [0, 1]) {
          const got = listed.scores(hidden, r * width, list, withBias);
          expect(Array.from(got)).toEqual(list.map((item) => reference(r, item, withBias)));
        }
      }
    }
  });

  it('keeps working when the backend heap grows and moves its buffer', () => {
    const list = [8, 0, 3, 3, 5];
    const before = listed.scores(hidden, 0, list, true);
    const big = tf.zeros([64 * 1024 * 1024]);
    expect(Array.from(listed.scores(hidden, 0, list, true))).toEqual(Array.from(before));
    big.dispose();
  });

  it('refuses an index outside the layer rather than read other memory', () => {
    for (const bad of [-1, items, 2.5, NaN]) expect(() => listed.scores(hidden, 0, [0, bad], true)).toThrow(RangeError);
  });
});
