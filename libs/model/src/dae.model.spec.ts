import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { DaeModel } from './dae.model';
import { DEFAULT_DAE_CONFIG, initParams } from './dae-config';
import { rowsFromItemLists } from './interaction-matrix';

describe(DaeModel.name, () => {
  const items = 301;
  const config = { ...DEFAULT_DAE_CONFIG, items, hidden: [40], embeddingDim: 16 };
  const params = initParams(config, 5);
  // biases away from zero, so leaving one out (or adding it twice) shows
  params.biases.forEach((b) => b.forEach((_, i) => (b[i] = Math.sin(i + 1) * 0.3)));
  let model: DaeModel;

  beforeAll(async () => {
    await initBackend();
    model = new DaeModel(config, params);
  });
  afterAll(() => model.dispose());

  /** The decoder as the row-major product of each layer, in float64: what the scores mean. */
  function reference(embedding: Float32Array): Float64Array {
    let h = Float64Array.from(embedding);
    for (let l = 2; l < params.weights.length; l++) {
      const out = params.biases[l].length;
      const z = new Float64Array(out);
      for (let j = 0; j < out; j++) {
        let sum = params.biases[l][j];
        for (let k = 0; k < h.length; k++) sum += h[k] * params.weights[l][k * out + j];
        z[j] = l === params.weights.length - 1 ? sum : Math.tanh(sum);
      }
      h = z;
    }
    return h;
  }

  it('decodes each embedding to the scores of the decoder, layer by layer, bias included', () => {
    const n = 5;
    const embeddings = Float32Array.from({ length: n * 16 }, (_, k) => Math.cos(k * 0.7));
    const scores = model.decode(embeddings, n);
    expect(scores).toHaveLength(n * items);
    for (let r = 0; r < n; r++) {
      const want = reference(embeddings.subarray(r * 16, (r + 1) * 16));
      for (let i = 0; i < items; i++) expect(scores[r * items + i]).toBeCloseTo(want[i], 5);
    }
  });

  it('gives on wasm the same bits as the row-major product, so evaluations stay reproducible', () => {
    const n = 7;
    const embeddings = Float32Array.from({ length: n * 16 }, (_, k) => Math.sin(k * 1.3));
    const rowMajor = tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(embeddings, [n, 16]);
      for (let l = 2; l < params.weights.length; l++) {
        const out = params.biases[l].length;
        const z = tf.fused.matMul({
          a: h,
          b: tf.tensor2d(params.weights[l], [params.weights[l].length / out, out]),
          bias: tf.tensor1d(params.biases[l]),
        });
        h = (l === params.weights.length - 1 ? z : tf.tanh(z)) as tf.Tensor2D;
      }
      return h.dataSync();
    });
    const scores = model.decode(embeddings, n);
    if (tf.getBackend() === 'wasm') expect(Array.from(scores)).toEqual(Array.from(rowMajor));
    else scores.forEach((s, k) => expect(s).toBeCloseTo(rowMajor[k], 5));
  });

  it('scores chosen items of one embedding with the bits decode gives them, at the default widths too', () => {
    const wide = { ...DEFAULT_DAE_CONFIG, items: 1500 };
    for (const m of [model, new DaeModel(wide, initParams(wide, 8))]) {
      const [dim, count] = [m.embeddingDim, m.config.items];
      const n = 6;
      const embeddings = Float32Array.from({ length: n * dim }, (_, k) => Math.sin(k * 0.37) * 0.8);
      // decoded in one batch, as a scoring thread does
      const batch = m.decode(embeddings, n);
      // every item, backwards, for the first row; a few for the others
      const lists = Array.from({ length: n }, (_, r) =>
        r > 0 ? [r, count - 1, 0, r * 7] : Array.from({ length: count }, (_, i) => count - 1 - i),
      );
      m.scoresOf(embeddings, lists);
      const before = tf.memory().numTensors;
      const some = m.scoresOf(embeddings, lists);
      expect(tf.memory().numTensors).toBe(before);
      lists.forEach((list, r) => {
        const want = list.map((i) => batch[r * count + i]);
        if (tf.getBackend() === 'wasm') expect(Array.from(some[r])).toEqual(want);
        else some[r].forEach((s, k) => expect(s).toBeCloseTo(want[k], 5));
      });
      if (m !== model) m.dispose();
    }
  });

  it('scores a history as the decode of its encoding, with no tensor left behind', () => {
    const rows = rowsFromItemLists(items, [[1, 5, 9], [300], [2, 3]]);
    const before = tf.memory().numTensors;
    const direct = model.scores(rows);
    const twoSteps = model.decode(model.encode(rows), 3);
    expect(tf.memory().numTensors).toBe(before);
    direct.forEach((s, k) => expect(s).toBeCloseTo(twoSteps[k], 6));
  });

  it('compares items by the cosine of their output vectors, bias left out', () => {
    const cosines = model.itemCosines([0, 17]);
    const last = params.weights.length - 1;
    const w = params.weights[last];
    const width = w.length / items;
    const vector = (i: number) => Array.from({ length: width }, (_, h) => w[h * items + i]);
    const norm = (v: number[]) => Math.hypot(...v);
    for (const [r, a] of [0, 17].entries()) {
      for (const b of [0, 17, 123, 300]) {
        const [va, vb] = [vector(a), vector(b)];
        expect(cosines[r * items + b]).toBeCloseTo(va.reduce((s, x, h) => s + x * vb[h], 0) / (norm(va) * norm(vb)), 5);
      }
    }
    expect(cosines[17]).toBeCloseTo(cosines[items], 6);
  });
});
