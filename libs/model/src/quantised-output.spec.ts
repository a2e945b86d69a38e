import * as tf from '@tensorflow/tfjs';
import { createRng } from '@app/random';
import { initBackend } from './backend';
import { DaeModel } from './dae.model';
import { DEFAULT_DAE_CONFIG, initParams } from './dae-config';
import { rowsFromItemLists } from './interaction-matrix';
import { QuantisedOutputLayer } from './quantised-output';
import { rankColumns, rankedItems, Ranking } from './score';

describe(QuantisedOutputLayer.name, () => {
  const rng = createRng(11);
  const [width, items] = [600, 2000];
  const weights = Float32Array.from({ length: width * items }, () => (rng.next() - 0.5) * 0.2);
  const bias = Float32Array.from({ length: items }, () => rng.next() - 0.5);
  // a few items with weights far larger than the rest: their scale is coarse
  for (const i of [3, 1999]) for (let j = 0; j < width; j++) weights[j * items + i] *= 40;

  it.each([16, 8] as const)(
    'approximates every score within the margin it gives for the row (%i-bit weights)',
    (bits) => {
      const layer = QuantisedOutputLayer.of(weights, bias, width, items, undefined, bits)!;
      const rows = 5;
      // tanh-like rows, one all zeros and one with a single large value
      const hidden = Float32Array.from({ length: rows * width }, () => Math.tanh((rng.next() - 0.5) * 4));
      hidden.fill(0, width, 2 * width);
      hidden.fill(0.001, 2 * width, 3 * width)[2 * width + 7] = 1;
      const { block, margins } = layer.approximate(hidden, rows)!;
      let worst = 0;
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < items; i++) {
          let exact = bias[i];
          for (let j = 0; j < width; j++) exact += hidden[r * width + j] * weights[j * items + i];
          const error = Math.abs(block[i * rows + r] - exact);
          expect(error).toBeLessThanOrEqual(margins[r]);
          worst = Math.max(worst, error / margins[r]);
        }
      }
      // the bound is not vacuous either: errors come within a few orders of it
      expect(worst).toBeGreaterThan(1e-3);
    },
  );

  it.each([16, 8] as const)(
    'bounds cosines over slot ranges of a reordered layer, one row at a time (%i-bit weights)',
    (bits) => {
      // slots in reverse item order, as a clustered layout reorders them; two ranges, the odd item out
      const order = Int32Array.from({ length: items }, (_, s) => items - 1 - s);
      const layer = QuantisedOutputLayer.of(weights, bias, width, items, order, bits)!;
      const ranges = [1001, 1500, 3, 4];
      const row = Float32Array.from({ length: width }, () => rng.next() - 0.5);
      const { block, margins } = layer.approximate(row, 1, 'cosines', ranges)!;
      const slots = [...Array.from({ length: 499 }, (_, n) => 1001 + n), 3];
      expect(block).toHaveLength(slots.length);
      slots.forEach((slot, n) => {
        const i = order[slot];
        let [dot, sq] = [0, 0];
        for (let j = 0; j < width; j++) {
          dot += row[j] * weights[j * items + i];
          sq += weights[j * items + i] ** 2;
        }
        expect(Math.abs(block[n] - dot / Math.sqrt(sq))).toBeLessThanOrEqual(margins[0]);
      });
    },
  );

  it('refuses what it cannot bound: non-finite weights or rows', () => {
    const broken = weights.slice();
    broken[17] = NaN;
    expect(QuantisedOutputLayer.of(broken, bias, width, items)).toBeNull();
    const layer = QuantisedOutputLayer.of(weights, bias, width, items)!;
    expect(layer.approximate(new Float32Array(width).fill(Infinity, 3, 4), 1)).toBeNull();
  });
});

describe('DaeModel.rank', () => {
  // the default shape, as serving runs it; sizes below follow it
  const config = { ...DEFAULT_DAE_CONFIG, items: 1500 };
  const dim = config.embeddingDim;
  /** Width of the output layer's input: the last hidden layer, or the embedding without one. */
  const lastWidth = config.hidden.at(-1) ?? dim;
  let model: DaeModel;
  let approximate: jest.SpyInstance;
  let exactlyScored: jest.SpyInstance;
  const rng = createRng(4);

  beforeAll(async () => {
    await initBackend();
    const params = initParams(config, 9);
    const last = params.weights.length - 1;
    // items 40-44 are copies of item 40: equal scores, which rank to the lower index
    for (let i = 41; i < 45; i++) {
      for (let j = 0; j < lastWidth; j++)
        params.weights[last][j * config.items + i] = params.weights[last][j * config.items + 40];
      params.biases[last][i] = params.biases[last][40];
    }
    // items 45-49: item 40 with every weight moved by up to 0.3%, cosines with it within ~1e-5 of
    // each other: closer than the quantised pass can tell apart
    for (let i = 45; i < 50; i++)
      for (let j = 0; j < lastWidth; j++)
        params.weights[last][j * config.items + i] =
          params.weights[last][j * config.items + 40] * (1 + (rng.next() - 0.5) * 6e-3);
    // biases that matter, so the copies rank high for some rows
    params.biases[last].forEach((_, i) => (params.biases[last][i] += i >= 40 && i < 45 ? 0.5 : Math.sin(i) * 0.2));
    model = new DaeModel(config, params);
    approximate = jest.spyOn(QuantisedOutputLayer.prototype, 'approximate');
    exactlyScored = jest.spyOn(
      DaeModel.prototype as unknown as { scoresFromHidden: () => Float32Array[] },
      'scoresFromHidden',
    );
  });
  afterAll(() => model.dispose());

  const rankings = (n: number, k: (r: number) => number): Ranking[] =>
    Array.from({ length: n }, (_, r) => ({
      k: k(r),
      exclude: r % 3 === 0 ? [] : Array.from({ length: 30 }, () => Math.floor(rng.next() * config.items)),
    }));

  it('ranks decoded embeddings as a full decode does: the same items, order and score bits', () => {
    // 40 rows: chunks of 16, 16 and 8; k from 1 to the whole catalogue
    const n = 40;
    const embeddings = Float32Array.from({ length: n * dim }, () => (rng.next() - 0.5) * 2);
    const wanted = rankings(n, (r) => [1, 20, 100, 500, config.items][r % 5]);
    model.rank({ embeddings: embeddings.subarray(0, dim) }, wanted.slice(0, 1));
    approximate.mockClear();
    exactlyScored.mockClear();
    const before = tf.memory().numTensors;
    const ranked = model.rank({ embeddings }, wanted);
    expect(tf.memory().numTensors).toBe(before);
    const full = rankColumns(model.decode(embeddings, n, undefined, 'items'), config.items, wanted);
    expect(ranked.map((r) => [Array.from(r.items), Array.from(r.scores)])).toEqual(
      full.map((r) => [Array.from(r.items), Array.from(r.scores)]),
    );
    // the quantised pass ran (wasm is what these machines run), one call per chunk
    if (tf.getBackend() === 'wasm') {
      expect(approximate).toHaveBeenCalledTimes(3);
      // and ruled out most of the catalogue: rows asking for 20 scored a few dozen items exactly
      const lists = exactlyScored.mock.calls.flatMap(([, itemLists]) => itemLists as number[][]);
      lists.forEach((list, r) => wanted[r].k === 20 && expect(list.length).toBeLessThan(100));
    }
  });

  it('ranks folded-in histories as scoring them does, equal scores to the lower index', () => {
    const lists = [[40], [41, 42], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [44, 100, 1499], [0]];
    const rows = rowsFromItemLists(config.items, lists);
    const wanted = lists.map((list, r) => ({ k: [10, 50, 3, 200, 1500][r], exclude: r === 1 ? [] : list }));
    const ranked = model.rank({ rows }, wanted);
    const full = rankColumns(model.scores(rows, undefined, 'items'), config.items, wanted);
    expect(ranked.map((r) => Array.from(r.items))).toEqual(full.map((r) => Array.from(r.items)));
    expect(ranked.map((r) => Array.from(r.scores))).toEqual(full.map((r) => Array.from(r.scores)));
    // the copies tie, and come out in index order wherever they rank
    const copies = Array.from(ranked[1].items).filter((i) => i >= 40 && i < 45);
    expect(copies).toEqual([40, 41, 42, 43, 44]);
    expect(ranked[4].items).toHaveLength(config.items - 1);
  });

  it('ranks items by cosine as their itemCosines rows rank, the item itself left out', () => {
    // 20 items: chunks of 16 and 4; the copies of item 40 among them (cosine 1 with each other)
    const indices = [40, 43, 45, 1499, ...Array.from({ length: 16 }, () => Math.floor(rng.next() * config.items))];
    const wanted = indices.map((item, r) => ({ k: [1, 10, 100, config.items][r % 4], exclude: [item] }));
    approximate.mockClear();
    exactlyScored.mockClear();
    const ranked = model.rankSimilar(indices, wanted);
    const cosines = model.itemCosines(indices);
    const full = wanted.map(({ k, exclude }, r) =>
      rankedItems(cosines.subarray(r * config.items, (r + 1) * config.items), k, exclude),
    );
    expect(ranked.map((r) => [Array.from(r.items), Array.from(r.scores)])).toEqual(
      full.map((r) => [Array.from(r.items), Array.from(r.scores)]),
    );
    expect(Array.from(ranked[0].items)).toEqual([41]);
    expect(Array.from(ranked[1].items.subarray(0, 4))).toEqual([40, 41, 42, 44]);
    expect(Array.from(ranked[1].items.subarray(4, 9)).sort()).toEqual([45, 46, 47, 48, 49]);
    if (tf.getBackend() === 'wasm') {
      expect(approximate).toHaveBeenCalledTimes(2);
      const lists = exactlyScored.mock.calls.flatMap(([, itemLists]) => itemLists as number[][]);
      lists.forEach((list, r) => wanted[r].k === 10 && expect(list.length).toBeLessThan(100));
    }
  });

  it('ranks a chunk holding a non-finite row from its decode, the other rows as before', () => {
    const embeddings = Float32Array.from({ length: 3 * dim }, () => (rng.next() - 0.5) * 2);
    embeddings[dim + 50] = NaN;
    const wanted = [0, 1, 2].map(() => ({ k: 20, exclude: [] }));
    const ranked = model.rank({ embeddings }, wanted);
    const full = rankColumns(model.decode(embeddings, 3, undefined, 'items'), config.items, wanted);
    // NaN scores never rank
    expect(ranked[1].items).toHaveLength(0);
    expect(ranked.map((r) => Array.from(r.items))).toEqual(full.map((r) => Array.from(r.items)));
    expect(ranked[2].items).toHaveLength(20);
  });

  it('gives nothing for k = 0', () => {
    const [empty] = model.rank({ embeddings: new Float32Array(dim) }, [{ k: 0, exclude: [] }]);
    expect(empty.items).toHaveLength(0);
  });
});
