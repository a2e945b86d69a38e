import { createRng } from '@app/random';
import { adamState, adamStep, emaDecayAt, emaStep, DEFAULT_ADAM } from './adam';
import { initBackend } from './backend';
import { DaeConfig, DaeParams, cloneParams, initParams } from './dae-config';
import { DataParallelTrainer } from './gradient-pool';
import { buildCsr } from './interaction-matrix';
import { makeBatch, trainDae } from './train-dae';

const flat = (p: DaeParams) => [...p.weights, ...p.biases].flatMap((a) => Array.from(a));

describe(adamStep.name, () => {
  // Kingma & Ba's update written out for one weight, with the shards' gradients summed
  const reference = (w: number, grads: number[][], lr: number, decay: number) => {
    let [m, v] = [0, 0];
    grads.forEach((shards, i) => {
      const g = shards.reduce((a, b) => a + b, 0) + decay * w;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      w -=
        (lr * (m / (1 - 0.9 ** (i + 1)))) /
        (Math.sqrt(v / (1 - 0.999 ** (i + 1))) + 1e-8 * Math.sqrt(1 / (1 - 0.999 ** (i + 1))));
    });
    return w;
  };

  it.each([1, 2, 3])(
    'matches the textbook update with %s shard gradient(s), weight decay on weights only',
    (shards) => {
      const params: DaeParams = { weights: [Float32Array.from([0.5, -1, 2])], biases: [Float32Array.from([0.25])] };
      const state = adamState(params);
      const options = { ...DEFAULT_ADAM, learningRate: 0.01, weightDecay: 0.1 };
      const steps = [0.3, -0.2, 0.05].map((g, s) => Array.from({ length: shards }, (_, t) => g * (t + 1) + s * 0.01));
      const start = [...params.weights[0], ...params.biases[0]];
      steps.forEach((perShard, i) => {
        const grads = perShard.map((g) => ({
          weights: [Float32Array.from([g, 2 * g, -g])],
          biases: [Float32Array.from([g])],
        }));
        adamStep(params, grads, state, options, i + 1);
      });
      const got = [...params.weights[0], ...params.biases[0]];
      const want = [
        ...[1, 2, -1].map((f, k) =>
          reference(
            start[k],
            steps.map((s) => s.map((g) => f * g)),
            0.01,
            0.1,
          ),
        ),
        reference(start[3], steps, 0.01, 0),
      ];
      got.forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
    },
  );
});

describe(emaStep.name, () => {
  it('moves the average toward the parameters by 1 - decay, only on its slice', () => {
    const params: DaeParams = { weights: [Float32Array.from([1, 2, 3, 4])], biases: [Float32Array.from([8, 10])] };
    const ema: DaeParams = { weights: [Float32Array.from([0, 0, 0, 0])], biases: [Float32Array.from([2, 2])] };
    emaStep(ema, params, 0.75, 0, 2);
    // first half of each array: 0.75 * e + 0.25 * w
    expect(flat(ema)).toEqual([0.25, 0.5, 0, 0, 3.5, 2]);
    emaStep(ema, params, 0.75, 1, 2);
    expect(flat(ema)).toEqual([0.25, 0.5, 0.75, 1, 3.5, 4]);
  });

  it('warms up: the decay is (1 + step) / (10 + step) until that exceeds the target', () => {
    expect(emaDecayAt(0.99, 1)).toBeCloseTo(2 / 11, 12);
    expect(emaDecayAt(0.99, 100)).toBeCloseTo(101 / 110, 12);
    expect(emaDecayAt(0.99, 10_000)).toBe(0.99);
  });
});

describe('training with weight averaging', () => {
  const config: DaeConfig = {
    items: 12,
    hidden: [],
    embeddingDim: 4,
    activation: 'tanh',
    loss: 'multinomial',
    input: 'binary',
  };
  const rows = buildCsr(
    6,
    12,
    Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 5]),
    Int32Array.from([0, 3, 1, 3, 5, 7, 2, 9, 11, 4, 10]),
    Float32Array.from({ length: 11 }, () => 1),
  );

  beforeAll(async () => {
    await initBackend();
  });

  it('keeps the hand-computed moving average of every step, apart from the raw weights', async () => {
    const params = initParams(config, 3);
    const ema = { params: cloneParams(params), decay: 0.9 };
    const expected = cloneParams(params)
      .weights.concat(cloneParams(params).biases)
      .map((a) => Float64Array.from(a));
    const { backend } = await initBackend();
    const trainer = await DataParallelTrainer.create({
      config,
      params,
      adam: { ...DEFAULT_ADAM, learningRate: 0.05 },
      threads: 1,
      backend,
      ema,
    });
    const rng = createRng(1);
    try {
      for (let step = 1; step <= 5; step++) {
        await trainer.trainStep(makeBatch(rows, [0, 1, 2, 3, 4, 5], config, 0.5, rng));
        const d = emaDecayAt(0.9, step);
        params.weights
          .concat(params.biases)
          .forEach((w, a) => w.forEach((v, k) => (expected[a][k] = d * expected[a][k] + (1 - d) * v)));
      }
    } finally {
      await trainer.close();
    }
    const got = flat(ema.params);
    const want = expected.flatMap((a) => Array.from(a));
    got.forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
    // the average lags the raw weights: it is not a copy of them
    const raw = flat(params);
    expect(Math.max(...got.map((v, k) => Math.abs(v - raw[k])))).toBeGreaterThan(1e-3);
  });

  it('returns (and validates) the averaged weights when ema > 0', async () => {
    const run = async (ema: number) => {
      const r = await trainDae(rows, config, {
        seed: 4,
        epochs: 6,
        batchSize: 3,
        learningRate: 0.05,
        carveValidation: 0,
        ema,
      });
      const p = flat(r.model.params);
      r.model.dispose();
      return p;
    };
    const raw = await run(0);
    const averaged = await run(0.9);
    expect(averaged).toHaveLength(raw.length);
    expect(averaged).not.toEqual(raw);
    expect(await run(0.9)).toEqual(averaged); // still deterministic for a seed
    await expect(trainDae(rows, config, { seed: 4, epochs: 1, carveValidation: 0, ema: 1 })).rejects.toThrow(/ema/);
  });
});
