import * as tf from '@tensorflow/tfjs';
import { createRng } from '@app/random';
import { generateSynthetic, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { initBackend } from './backend';
import { batchGradients, timesWeights, timesWeightsTransposed, weightsOnLeft } from './dae-gradients';
import { DaeModel } from './dae.model';
import { DaeConfig, initParams } from './dae-config';
import { buildCsr, IdIndex, sliceRows } from './interaction-matrix';
import { evaluateRanking, STRONG_METRICS } from './eval/metrics';
import { shardBatch } from './gradient-pool';
import { Popularity } from './eval/popularity';
import { EvaluationSplit, strongGeneralizationSplit } from './eval/splits';
import { deserializeModel, serializeModel } from './serialize';
import { makeBatch, trainDae } from './train-dae';

// a tiny fixture with cluster structure: trains in a few seconds on one core. Its shape and loss are
// pinned (the multinomial Mult-DAE these figures were set on), so a change of the model's defaults
// does not change what these tests train
const SMALL: Partial<DaeConfig> = { hidden: [32], embeddingDim: 16, loss: 'multinomial' };

function syntheticSplit(seed: number): EvaluationSplit {
  const d = generateSynthetic({ users: 400, items: 150, seed, perUser: 20, clusters: 6 });
  const users = IdIndex.from(Array.from({ length: d.users }, (_, u) => syntheticUserId(u)));
  const items = IdIndex.from(Array.from({ length: d.items }, (_, i) => syntheticItemId(i)));
  return strongGeneralizationSplit({ users, items, user: d.user, item: d.item, weight: d.weight }, seed, {
    heldOutUsers: 0.15,
    foldIn: 0.8,
  });
}

beforeAll(async () => {
  await initBackend();
});

describe(trainDae.name, () => {
  const split = syntheticSplit(11);
  const validation = { input: split.validation!.input, heldOut: split.validation!.heldOut };

  it('lowers the loss and beats popularity on held-out users', async () => {
    const sut = await trainDae(split.train, SMALL, {
      seed: 3,
      epochs: 25,
      batchSize: 50,
      learningRate: 3e-3,
      validation,
      patience: 0,
    });
    const losses = sut.history.map((h) => h.loss);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.95);
    const dae = evaluateRanking(
      (rows, a, b) => sut.model.scores(sliceRows(rows, a, b)),
      split.test.input,
      split.test.heldOut,
      STRONG_METRICS,
    );
    const pop = Popularity.fit(split.train);
    const popularity = evaluateRanking(
      (rows, a, b) => pop.scores(rows, a, b),
      split.test.input,
      split.test.heldOut,
      STRONG_METRICS,
    );
    expect(dae['ndcg@100']).toBeGreaterThan(popularity['ndcg@100'] + 0.05);
    expect(dae['recall@20']).toBeGreaterThan(popularity['recall@20']);
    sut.model.dispose();
  });

  it('gives the same history for the same seed', async () => {
    const run = async () => {
      const r = await trainDae(split.train, SMALL, { seed: 9, epochs: 3, batchSize: 64, validation });
      r.model.dispose();
      return r.history.map((h) => [h.loss, h.ndcg]);
    };
    expect(await run()).toEqual(await run());
  });

  it('leaks no tensors across epochs', async () => {
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const sut = await trainDae(split.train, SMALL, {
      seed: 1,
      epochs: 4,
      batchSize: 64,
      validation,
      onEpoch: () => void counts.push(tf.memory().numTensors),
    });
    sut.model.scores(split.test.input);
    sut.model.dispose();
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains the same weights and validates the same, bit for bit, on one thread as on two (two shards either way)', async () => {
    const validation = { input: split.validation!.input, heldOut: split.validation!.heldOut };
    const run = async (threads: number) => {
      const r = await trainDae(split.train, SMALL, {
        seed: 3,
        epochs: 3,
        batchSize: 64,
        validation,
        threads,
        shards: 2,
      });
      r.model.dispose();
      return r;
    };
    const [one, two] = [await run(1), await run(2)];
    expect([one.threads, two.threads, two.shards]).toEqual([1, 2, 2]);
    expect(two.model.params).toEqual(one.model.params);
    expect(two.history.map((e) => [e.loss, e.ndcg])).toEqual(one.history.map((e) => [e.loss, e.ndcg]));
    expect(one.history.every((e) => e.ndcg! > 0)).toBe(true);
  });

  // the rule, from the validation NDCGs: a cut once `patience` epochs pass without a better one since the best or the last cut
  const cutsByRule = (ndcgs: number[], patience: number) => {
    const cuts: number[] = [];
    let best = { epoch: 0, ndcg: -Infinity };
    ndcgs.forEach((ndcg, i) => {
      const epoch = i + 1;
      if (ndcg > best.ndcg) best = { epoch, ndcg };
      else if (epoch - Math.max(best.epoch, cuts.at(-1) ?? 0) >= patience) cuts.push(epoch);
    });
    return cuts;
  };

  it('cuts the learning rate on validation plateaus, on two threads as on one, and a refit replays the cuts', async () => {
    const decay = { lrDecayPatience: 1, lrDecayFactor: 0.1 };
    const run = async (threads: number, options: object) => {
      const r = await trainDae(split.train, SMALL, {
        seed: 3,
        epochs: 8,
        batchSize: 64,
        learningRate: 3e-2,
        threads,
        shards: 2,
        patience: 0,
        ...options,
      });
      r.model.dispose();
      return r;
    };
    const [one, two, constant] = [
      await run(1, { validation, ...decay }),
      await run(2, { validation, ...decay }),
      await run(1, { validation }),
    ];
    expect(one.learningRateCuts.length).toBeGreaterThan(0);
    expect(one.learningRateCuts).toEqual(
      cutsByRule(
        one.history.map((e) => e.ndcg!),
        1,
      ),
    );
    expect(two.model.params).toEqual(one.model.params);
    expect(constant.learningRateCuts).toEqual([]);
    expect(constant.model.params).not.toEqual(one.model.params);

    const refitted = await run(1, { ...decay, learningRate: 1e-2, lrDecayFactor: 0.5 });
    const selection = refitted.history.filter((e) => e.phase !== 'refit').map((e) => e.ndcg!);
    const replayed = cutsByRule(selection, 1).filter((epoch) => epoch < refitted.bestEpoch);
    expect(replayed.length).toBeGreaterThan(0);
    expect(refitted.learningRateCuts).toEqual(replayed);
  });

  it('carves its own validation when none is given, then refits on all rows', async () => {
    const epochs: string[] = [];
    const sut = await trainDae(split.train, SMALL, {
      seed: 2,
      epochs: 3,
      batchSize: 64,
      patience: 0,
      onEpoch: (e) => void epochs.push(`${e.phase ?? 'select'}:${e.ndcg === null ? '-' : 'v'}`),
    });
    expect(epochs).toEqual([
      'select:v',
      'select:v',
      'select:v',
      ...Array.from({ length: sut.bestEpoch }, () => 'refit:-'),
    ]);
    sut.model.dispose();
  });
});

describe(batchGradients.name, () => {
  // emphasis weighs the interactions dropout removed (with this seed, dropout 0.5 drops some, not all);
  // the positive weight weighs every interaction against the non-interactions
  // a batch of one row puts the 5 x 9 output layer's weights on the left of its products (weightsOnLeft)
  it.each([
    ['multinomial', 0, 1, 1, [0, 1, 2]],
    ['logistic', 0, 1, 1, [0, 1, 2]],
    ['multinomial', 0.5, 3, 1, [0, 1, 2]],
    ['logistic', 0.5, 3, 1, [0, 1, 2]],
    ['logistic', 0.5, 0.5, 1, [0, 1, 2]],
    ['logistic', 0, 1, 4, [0, 1, 2]],
    ['logistic', 0.5, 3, 2, [0, 1, 2]],
    ['multinomial', 0, 1, 1, [1]],
    ['logistic', 0.5, 3, 1, [1]],
  ] as const)(
    'matches finite differences (%s, dropout %s, emphasis %s, positive weight %s, rows %j)',
    (loss, dropout, emphasis, positiveWeight, batchRows) => {
      const config: DaeConfig = { items: 9, hidden: [5], embeddingDim: 3, activation: 'tanh', loss, input: 'weighted' };
      const rows = buildCsr(
        3,
        9,
        Int32Array.from([0, 0, 1, 1, 1, 2]),
        Int32Array.from([1, 4, 0, 4, 8, 6]),
        Float32Array.from([1, 2, 1, 1, 3, 1]),
      );
      const batch = makeBatch(rows, batchRows, config, dropout, createRng(1), emphasis, positiveWeight);
      if (emphasis !== 1) {
        const dropped = Array.from(batch.input, (v) => v === 0);
        expect(dropped.filter(Boolean).length).toBeGreaterThan(0);
        expect(dropped.filter(Boolean).length).toBeLessThan(dropped.length);
        batch.weight!.forEach((w, k) =>
          expect(w).toBeCloseTo((positiveWeight * (dropped[k] ? emphasis : 1)) / (1 - dropout + dropout * emphasis), 6),
        );
      } else if (positiveWeight !== 1)
        expect(Array.from(batch.weight!)).toEqual(Array.from(batch.input, () => positiveWeight));
      else expect(batch.weight).toBeUndefined();
      const params = initParams(config, 4);
      const grads = initParams(config, 5);
      batchGradients(config, params, batch, grads);
      const scratch = initParams(config, 6);
      const lossAt = () => batchGradients(config, params, batch, scratch) * batch.scale;
      const rng = createRng(8);
      const eps = 1e-2;
      for (const [which, l] of [
        ['weights', 0],
        ['weights', 2],
        ['weights', 3],
        ['biases', 0],
        ['biases', 3],
      ] as const) {
        for (let trial = 0; trial < 4; trial++) {
          const p = params[which][l];
          const k = rng.int(p.length);
          const saved = p[k];
          p[k] = saved + eps;
          const up = lossAt();
          p[k] = saved - eps;
          const down = lossAt();
          p[k] = saved;
          const numeric = (up - down) / (2 * eps);
          expect(Math.abs(grads[which][l][k] - numeric)).toBeLessThan(2e-3 + 0.03 * Math.abs(numeric));
        }
      }
    },
  );
});

describe(timesWeights.name, () => {
  it('gives x w and g wᵀ with the weights on either side of the product', () => {
    const rng = createRng(3);
    const x = tf.tensor2d(
      Float32Array.from({ length: 2 * 40 }, () => rng.next() - 0.5),
      [2, 40],
    );
    const w = tf.tensor2d(
      Float32Array.from({ length: 40 * 30 }, () => rng.next() - 0.5),
      [40, 30],
    );
    const g = tf.tensor2d(
      Float32Array.from({ length: 2 * 30 }, () => rng.next() - 0.5),
      [2, 30],
    );
    // 2 rows against a 40 x 30 layer: on the left; 20 rows: on the right, as usual
    expect([weightsOnLeft(2, w), weightsOnLeft(20, w)]).toEqual([true, false]);
    const near = (a: tf.Tensor, b: tf.Tensor) =>
      Array.from(a.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(b.dataSync()[k], 5));
    near(timesWeights(x, w), tf.matMul(x, w));
    near(timesWeightsTransposed(g, w), tf.matMul(g, w, false, true));
    tf.dispose([x, w, g]);
  });
});

describe(shardBatch.name, () => {
  it("keeps the emphasis weights with their rows: the shards' gradients add up to the batch's", () => {
    const config: DaeConfig = {
      items: 9,
      hidden: [],
      embeddingDim: 3,
      activation: 'tanh',
      loss: 'multinomial',
      input: 'binary',
    };
    const rows = buildCsr(
      3,
      9,
      Int32Array.from([0, 0, 1, 1, 1, 2, 2]),
      Int32Array.from([1, 4, 0, 4, 8, 6, 2]),
      Float32Array.from({ length: 7 }, () => 1),
    );
    const batch = makeBatch(rows, [0, 1, 2], config, 0.5, createRng(1), 4);
    const params = initParams(config, 4);
    const whole = initParams(config, 5);
    batchGradients(config, params, batch, whole);
    const summed = initParams(config, 5);
    [...summed.weights, ...summed.biases].forEach((a) => a.fill(0));
    for (const shard of shardBatch(batch, 2)) {
      expect(shard.weight).toHaveLength(shard.indices.length);
      const g = initParams(config, 6);
      batchGradients(config, params, shard, g);
      [...g.weights, ...g.biases].forEach((a, i) =>
        a.forEach((v, k) => ([...summed.weights, ...summed.biases][i][k] += v)),
      );
    }
    const flat = (p: typeof whole) => [...p.weights, ...p.biases].flatMap((a) => Array.from(a));
    const want = flat(whole);
    flat(summed).forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
  });
});

describe(serializeModel.name, () => {
  it('round-trips to a model with identical scores, embeddings and ids', async () => {
    const split = syntheticSplit(4);
    const { model } = await trainDae(split.train, SMALL, { seed: 5, epochs: 2, batchSize: 64, carveValidation: 0 });
    const blob = serializeModel(model, { itemIds: split.itemIds, userIds: split.trainUserIds }, { seed: 5 });
    const sut = deserializeModel(blob);
    expect(sut.itemIds).toEqual(split.itemIds);
    expect(sut.userIds).toEqual(split.trainUserIds);
    expect(sut.meta).toEqual({ seed: 5 });
    expect(sut.model.config).toEqual(model.config);
    expect(sut.model.scores(split.test.input)).toEqual(model.scores(split.test.input));
    const embeddings = sut.model.encode(split.test.input);
    expect(embeddings).toEqual(model.encode(split.test.input));
    // decode(encode(x)) is the full forward pass
    const direct = model.scores(split.test.input);
    sut.model.decode(embeddings).forEach((v, k) => expect(v).toBeCloseTo(direct[k], 4));
    expect(() => deserializeModel(blob.subarray(0, blob.length - 4))).toThrow(/truncated|trailing/);
    model.dispose();
    sut.model.dispose();
  });

  it('exposes item vectors as the output layer columns', () => {
    const config: DaeConfig = {
      items: 4,
      hidden: [],
      embeddingDim: 2,
      activation: 'tanh',
      loss: 'multinomial',
      input: 'binary',
    };
    const sut = new DaeModel(config, initParams(config, 1));
    const { dim, vectors, bias } = sut.itemEmbeddings();
    expect(dim).toBe(2);
    // item 3's vector is column 3 of the 2 x 4 output weights
    expect(Array.from(vectors.subarray(6, 8))).toEqual([sut.params.weights[1][3], sut.params.weights[1][7]]);
    expect(Array.from(bias)).toEqual(Array.from(sut.params.biases[1]));
  });
});
