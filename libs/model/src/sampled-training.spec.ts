import { createRng } from '@app/random';
import { initBackend } from './backend';
import { DEFAULT_SAMPLED_NEGATIVES, largeCatalogueTraining } from './large-catalogue';
import { batchGradients } from './dae-gradients';
import { DaeConfig, DaeLoss, initParams } from './dae-config';
import { evaluateRanking, STRONG_METRICS } from './eval/metrics';
import { Popularity } from './eval/popularity';
import { buildCsr, sliceRows } from './interaction-matrix';
import { ItemsMajorParams, NegativeSampler, sampledGradients, SparseGradients } from './sampled-gradients';
import { SampledTrainer, transpose } from './sampled-trainer';
import { syntheticStrongSplit } from './synthetic-split.fixture';
import { cappedValidation, makeBatch, trainDae, VALIDATION_SCORES } from './train-dae';

beforeAll(async () => {
  await initBackend();
});

const ITEMS = 12;
const config = (loss: DaeLoss): DaeConfig => ({
  items: ITEMS,
  hidden: [],
  embeddingDim: 4,
  activation: 'tanh',
  loss,
  input: 'binary',
});
// three users over 12 items
const ROWS = buildCsr(
  3,
  ITEMS,
  Int32Array.from([0, 0, 0, 1, 1, 2, 2, 2, 2]),
  Int32Array.from([1, 4, 7, 0, 4, 2, 6, 9, 11]),
  Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1]),
);

function itemsMajor(c: DaeConfig, seed: number): ItemsMajorParams {
  const p = initParams(c, seed);
  return {
    items: c.items,
    width: c.embeddingDim,
    w0: p.weights[0],
    b0: p.biases[0],
    w1: transpose(p.weights[1], c.embeddingDim, c.items),
    b1: p.biases[1],
  };
}

describe(sampledGradients.name, () => {
  it.each([
    ['logistic', 0],
    ['logistic', 0.5],
    ['multinomial', 0],
  ] as const)('matches finite differences of the sampled loss (%s, dropout %s)', (loss, dropout) => {
    const c = config(loss);
    const batch = makeBatch(ROWS, [0, 1, 2], c, dropout, createRng(2), 1, loss === 'logistic' ? 2 : 1);
    // 5 negatives, some of them users' own items (4 is two users')
    const negatives = Int32Array.from([3, 4, 5, 8, 9]);
    const scale = ITEMS / negatives.length;
    const p = itemsMajor(c, 4);
    const grads = new SparseGradients(ITEMS, c.embeddingDim);
    sampledGradients(c, p, batch, negatives, scale, grads);
    const g = {
      w0: dense(grads, grads.g0, c.embeddingDim, grads.inInput),
      w1: dense(grads, grads.g1, c.embeddingDim),
      b1: dense(grads, grads.gb1, 1),
      b0: grads.gb0.slice(),
    };
    const scratch = new SparseGradients(ITEMS, c.embeddingDim);
    const lossAt = () => sampledGradients(c, p, batch, negatives, scale, scratch) * batch.scale;
    const eps = 1e-2;
    let checked = 0;
    for (const key of ['w0', 'w1', 'b1', 'b0'] as const) {
      for (let k = 0; k < p[key].length; k++) {
        const saved = p[key][k];
        p[key][k] = saved + eps;
        const up = lossAt();
        p[key][k] = saved - eps;
        const down = lossAt();
        p[key][k] = saved;
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(g[key][k] - numeric)).toBeLessThan(1e-3 + 0.02 * Math.abs(numeric));
        if (numeric !== 0) checked++;
      }
    }
    // the rows of items neither in a batch row nor sampled (10) have no gradient; the rest do
    expect(checked).toBeGreaterThan(50);
  });

  it.each(['logistic', 'multinomial'] as const)(
    'with every item sampled gives the full %s loss and output-layer gradient',
    (loss) => {
      const c = config(loss);
      const batch = makeBatch(ROWS, [0, 1, 2], c, 0.5, createRng(3));
      const full = initParams(c, 7);
      const fullGrads = initParams(c, 8);
      const fullLoss = batchGradients(c, full, batch, fullGrads);

      const p = itemsMajor(c, 7);
      const grads = new SparseGradients(ITEMS, c.embeddingDim);
      const all = new NegativeSampler(ITEMS, ITEMS);
      expect(all.scale).toBe(1);
      const sampledLoss = sampledGradients(c, p, batch, all.draw(createRng(1)), all.scale, grads);
      expect(sampledLoss).toBeCloseTo(fullLoss, 4);
      const g1 = transpose(dense(grads, grads.g1, c.embeddingDim), ITEMS, c.embeddingDim);
      g1.forEach((x, k) => expect(x).toBeCloseTo(fullGrads.weights[1][k], 5));
      dense(grads, grads.gb1, 1).forEach((x, k) => expect(x).toBeCloseTo(fullGrads.biases[1][k], 5));
      grads.gb0.forEach((x, k) => expect(x).toBeCloseTo(fullGrads.biases[0][k], 5));
    },
  );
});

describe(SampledTrainer.name, () => {
  it('moves only the rows a batch touched: other rows and their Adam moments stay exactly as they were', () => {
    const c = config('logistic');
    const sut = new SampledTrainer(c, initParams(c, 5), { ...adam, weightDecay: 0.01 }, 2, createRng(6));
    const { params, m, v } = sut.itemsMajor;
    // a first step on user 2 gives some rows non-zero moments, so a later decay would show
    sut.trainStep(makeBatch(ROWS, [2], c, 0, createRng(1)));
    const before = [params, m, v].map((x) => ({ w0: x.w0.slice(), w1: x.w1.slice(), b1: x.b1.slice() }));
    const batch = makeBatch(ROWS, [0], c, 0, createRng(1)); // items 1, 4, 7
    sut.trainStep(batch);
    const grads = (sut as unknown as { grads: SparseGradients }).grads;
    const touched = new Set(Array.from(grads.slotItems.subarray(0, grads.count)));
    expect([1, 4, 7].every((i) => touched.has(i))).toBe(true);
    expect(touched.size).toBeLessThanOrEqual(5);
    const d = c.embeddingDim;
    [params, m, v].forEach((x, n) => {
      for (let i = 0; i < ITEMS; i++) {
        const row = (a: Float32Array) => Array.from(a.subarray(i * d, (i + 1) * d));
        const inInput = [1, 4, 7].includes(i);
        if (inInput) expect(row(x.w0)).not.toEqual(row(before[n].w0));
        else expect(row(x.w0)).toEqual(row(before[n].w0));
        if (touched.has(i)) expect(row(x.w1)).not.toEqual(row(before[n].w1));
        else {
          expect(row(x.w1)).toEqual(row(before[n].w1));
          expect(x.b1[i]).toBe(before[n].b1[i]);
        }
      }
    });
  });

  it('refuses hidden layers with an error that says what to do', () => {
    const c = { ...config('logistic'), hidden: [8] };
    expect(() => new SampledTrainer(c, initParams(c, 1), adam, 4, createRng(1))).toThrow(/sampledNegatives 0/);
  });
});

describe('trainDae with sampledNegatives', () => {
  // the multinomial loss: on this small fixture the logistic one, full or sampled, is within 0.05 of
  // popularity (docs/evaluation.md measures the default on real data)
  it('reaches an NDCG well above popularity on held-out users (multinomial, 30 of 150 items sampled)', async () => {
    const split = syntheticStrongSplit({ users: 400, items: 150, seed: 11, perUser: 20, clusters: 6 }, 11);
    const sut = await trainDae(
      split.train,
      { embeddingDim: 32, loss: 'multinomial' },
      { seed: 2, epochs: 40, sampledNegatives: 30, validation: split.validation!, patience: 0, refit: false },
    );
    expect(sut.threads).toBe(1);
    const score = (rows: Parameters<typeof sliceRows>[0], a: number, b: number) =>
      sut.model.scores(sliceRows(rows, a, b));
    const dae = evaluateRanking(score, split.test.input, split.test.heldOut, STRONG_METRICS);
    const pop = Popularity.fit(split.train);
    const popularity = evaluateRanking(
      (rows, a, b) => pop.scores(rows, a, b),
      split.test.input,
      split.test.heldOut,
      STRONG_METRICS,
    );
    expect(dae['ndcg@100']).toBeGreaterThan(popularity['ndcg@100'] + 0.05);
    sut.model.dispose();
  });
});

const adam = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/** A sparse gradient's rows scattered into a dense items x width array. */
function dense(grads: SparseGradients, rows: Float32Array, width: number, only?: Uint8Array): Float32Array {
  const out = new Float32Array(ITEMS * width);
  for (let s = 0; s < grads.count; s++) {
    if (only && !only[s]) continue;
    out.set(rows.subarray(s * width, (s + 1) * width), grads.slotItems[s] * width);
  }
  return out;
}

describe(largeCatalogueTraining.name, () => {
  it('samples from the threshold on, at width 256 unless one is configured, and never with hidden layers', () => {
    expect(largeCatalogueTraining(99_999, 100_000, { hidden: [] })).toBeNull();
    expect(largeCatalogueTraining(100_000, 100_000, { hidden: [] })).toEqual({
      sampledNegatives: DEFAULT_SAMPLED_NEGATIVES,
      embeddingDim: 256,
    });
    expect(largeCatalogueTraining(1_000_000, 100_000, { hidden: [] }, 128)?.embeddingDim).toBe(128);
    expect(largeCatalogueTraining(1_000_000, 100_000, { hidden: [600] })).toBeNull();
  });
});

describe(cappedValidation.name, () => {
  it('scores every validation user of a small catalogue and the first VALIDATION_SCORES / items of a large one', () => {
    const validation = { input: ROWS, heldOut: ROWS };
    expect(cappedValidation(validation, 12)).toBe(validation);
    const capped = cappedValidation(validation, VALIDATION_SCORES / 2);
    expect(capped.input.rows).toBe(2);
    expect(Array.from(capped.heldOut.indices)).toEqual(Array.from(ROWS.indices.subarray(0, ROWS.indptr[2])));
  });
});
