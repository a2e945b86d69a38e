import * as tf from '@tensorflow/tfjs';
import { createRng } from '@app/random';
import { initBackend } from './backend';
import { DaeModel } from './dae.model';
import { DEFAULT_DAE_CONFIG, initParams } from './dae-config';
import { buildCsr, CsrMatrix, rowsFromItemLists } from './interaction-matrix';
import { ItemTerm } from './item-term';
import { rankColumns, Ranking } from './score';
import { deserializeModel, serializeModel } from './serialize';

/** A random sparse items x items weight matrix: `perRow` weights per item, values in [-scale, scale]. */
function randomWeights(items: number, perRow: number, scale: number, seed: number): CsrMatrix {
  const rng = createRng(seed);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < items; i++) {
    for (let n = 0; n < perRow; n++) {
      rows.push(i);
      cols.push(Math.floor(rng.next() * items));
      vals.push((rng.next() * 2 - 1) * scale);
    }
  }
  return buildCsr(items, items, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals), 'max');
}

describe(ItemTerm.name, () => {
  const weights = rowsFromItemLists(5, [[1, 2], [0], [], [4], [0, 1]], [[0.5, -1], [2], [], [3], [0.25, 0.125]]);
  const term = new ItemTerm(weights, { lambda: 1, dropout: 0.5, topK: 2, alpha: 1 });

  it("sums the rows of the user's distinct items, whatever their order or repeats", () => {
    const row = term.rowOf([4, 0, 4, 99]);
    expect(Array.from(row.items)).toEqual([0, 1, 2]);
    expect(Array.from(row.values)).toEqual([0.25, 0.5 + 0.125, -1]);
    expect(term.rowOf([0, 4])).toEqual(row);
    expect(term.rowOf([]).items).toHaveLength(0);
  });

  it('scales each float64 sum by alpha before rounding it to float32, as the choice of alpha scored it', () => {
    const scaled = new ItemTerm(weights, { lambda: 1, dropout: 0.5, topK: 2, alpha: 0.3 });
    const { items, sums } = scaled.sumsOf([4, 0]);
    expect(Array.from(items)).toEqual([0, 1, 2]);
    expect(Array.from(sums)).toEqual([0.25, 0.625, -1]);
    expect(Array.from(scaled.rowOf([4, 0]).values)).toEqual([0.25, 0.625, -1].map((v) => Math.fround(0.3 * v)));
  });

  it('adds the same values to a users-major block, an items-major block and listed items', () => {
    const histories = [[0, 4], null, [3]];
    const users = Float32Array.from({ length: 15 }, (_, k) => k / 7);
    const itemsMajor = Float32Array.from({ length: 15 }, (_, k) => users[(k % 3) * 5 + Math.floor(k / 3)]);
    term.addTo(users, histories, 'users');
    term.addTo(itemsMajor, histories, 'items');
    for (let r = 0; r < 3; r++) for (let i = 0; i < 5; i++) expect(itemsMajor[i * 3 + r]).toBe(users[r * 5 + i]);
    const listed = Float32Array.from([2, 0, 4], (i) => i / 7);
    term.addToListed([0, 4], [2, 0, 4], listed);
    expect(Array.from(listed)).toEqual([users[2], users[0], users[4]]);
    // no history: unchanged
    expect(users[5]).toBe(Math.fround(5 / 7));
  });
});

describe('DaeModel with an item term', () => {
  const config = { ...DEFAULT_DAE_CONFIG, items: 1200 };
  const dim = config.embeddingDim;
  const rng = createRng(21);
  let plain: DaeModel;
  let model: DaeModel;

  beforeAll(async () => {
    await initBackend();
    const params = initParams(config, 3);
    const last = params.weights.length - 1;
    params.biases[last].forEach((_, i) => (params.biases[last][i] = Math.sin(i) * 0.2));
    plain = new DaeModel(config, params);
    // weights as large as the spread of the logits, so the term reorders every ranking
    model = plain.withItemTerm(
      new ItemTerm(randomWeights(config.items, 150, 0.2, 8), { lambda: 100, dropout: 0.5, topK: 150, alpha: 2.5 }),
    );
  });
  afterAll(() => (plain.dispose(), model.dispose()));

  const histories = (n: number) =>
    Array.from({ length: n }, (_, r) =>
      r === 3 ? null : Array.from({ length: 1 + (r % 9) * 3 }, () => Math.floor(rng.next() * config.items)),
    );
  const rankings = (n: number): Ranking[] =>
    Array.from({ length: n }, (_, r) => ({ k: [1, 10, 100, 400][r % 4], exclude: r % 2 ? [] : [5, 6, 7] }));

  it("changes the autoencoder's rankings, and only where a history is given", () => {
    const embeddings = Float32Array.from({ length: 4 * dim }, () => rng.next() - 0.5);
    const given = histories(4);
    const withTerm = model.decode(embeddings, 4, undefined, 'users', given);
    const without = plain.decode(embeddings, 4);
    const changed = (r: number) =>
      withTerm.subarray(r * config.items, (r + 1) * config.items).some((v, i) => v !== without[r * config.items + i]);
    expect([0, 1, 2, 3].map(changed)).toEqual([true, true, true, false]);
    // no histories at all: the autoencoder's scores
    expect(Array.from(model.decode(embeddings, 4))).toEqual(Array.from(without));
  });

  it('ranks embeddings with histories as their full decode ranks them: the same items and score bits', () => {
    const n = 40;
    const embeddings = Float32Array.from({ length: n * dim }, () => (rng.next() - 0.5) * 2);
    const given = histories(n);
    const wanted = rankings(n);
    const ranked = model.rank({ embeddings, histories: given }, wanted);
    const full = rankColumns(model.decode(embeddings, n, undefined, 'items', given), config.items, wanted);
    expect(ranked.map((r) => [Array.from(r.items), Array.from(r.scores)])).toEqual(
      full.map((r) => [Array.from(r.items), Array.from(r.scores)]),
    );
    // and differently from the autoencoder alone
    const alone = plain.rank({ embeddings }, wanted);
    expect(ranked.filter((r, i) => r.items[0] !== alone[i].items[0]).length).toBeGreaterThan(n / 4);
  });

  it("folds in histories with the term from the rows' own items, as their encoding and decode with histories give", () => {
    const lists = histories(24).map((h) => h ?? [0]);
    const rows = rowsFromItemLists(config.items, lists);
    const wanted = rankings(24).map((r, i) => ({ ...r, exclude: lists[i] }));
    const scores = model.scores(rows);
    const viaEmbeddings = model.decode(model.encode(rows), 24, undefined, 'users', lists);
    expect(Array.from(scores)).toEqual(Array.from(viaEmbeddings));
    const ranked = model.rank({ rows }, wanted);
    const full = rankColumns(model.scores(rows, undefined, 'items'), config.items, wanted);
    expect(ranked.map((r) => [Array.from(r.items), Array.from(r.scores)])).toEqual(
      full.map((r) => [Array.from(r.items), Array.from(r.scores)]),
    );
  });

  it("reconstructs a history without the term when asked: the anomaly score's scores", () => {
    const rows = rowsFromItemLists(config.items, [
      [1, 2, 3],
      [40, 41],
    ]);
    expect(Array.from(model.scores(rows, undefined, 'users', false))).toEqual(Array.from(plain.scores(rows)));
    expect(Array.from(model.scores(rows))).not.toEqual(Array.from(plain.scores(rows)));
  });

  it("scores chosen items with a decode's bits, term included", () => {
    const embeddings = Float32Array.from({ length: 3 * dim }, () => rng.next() - 0.5);
    const given = histories(3);
    const lists = [[0, 17, 1199], [5], Array.from({ length: 50 }, (_, i) => i * 20)];
    const decoded = model.decode(embeddings, 3, undefined, 'users', given);
    const chosen = model.scoresOf(embeddings, lists, given);
    lists.forEach((list, r) => expect(Array.from(chosen[r])).toEqual(list.map((i) => decoded[r * config.items + i])));
  });

  it('keeps the term through serialisation: a loaded model scores the same bits', () => {
    const blob = serializeModel(model, { itemIds: Array.from({ length: config.items }, (_, i) => `i${i}`) });
    const loaded = deserializeModel(blob).model;
    try {
      expect(loaded.itemTerm?.info).toEqual(model.itemTerm!.info);
      const rows = rowsFromItemLists(config.items, [[1, 2, 3], [900]]);
      expect(Array.from(loaded.scores(rows))).toEqual(Array.from(model.scores(rows)));
      // a model without a term loads without one
      expect(
        deserializeModel(serializeModel(plain, { itemIds: Array.from({ length: config.items }, (_, i) => `i${i}`) }))
          .model.itemTerm,
      ).toBeNull();
      // a cut blob is refused, not half-loaded
      expect(() => deserializeModel(blob.subarray(0, blob.length - 4))).toThrow(/truncated/);
      // a format-2 blob holds alpha x B and is served as it was written: not scaled again
      const { weights, info } = model.itemTerm!;
      const premultiplied = plain.withItemTerm(
        new ItemTerm({ ...weights, values: weights.values.map((v) => info.alpha * v) }, info, 1),
      );
      const v2 = serializeModel(premultiplied, { itemIds: Array.from({ length: config.items }, (_, i) => `i${i}`) });
      v2.write('"version":2', v2.indexOf('"version":3'), 'utf8');
      const old = deserializeModel(v2).model;
      try {
        expect(Array.from(old.scores(rows))).toEqual(Array.from(premultiplied.scores(rows)));
        expect(Array.from(old.scores(rows))).not.toEqual(Array.from(model.scores(rows)));
      } finally {
        old.dispose();
        premultiplied.dispose();
      }
    } finally {
      loaded.dispose();
    }
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    model.rank({ embeddings: new Float32Array(2 * dim).fill(0.1), histories: [[1], [2, 3]] }, rankings(2));
    model.scores(rowsFromItemLists(config.items, [[4, 5]]));
    expect(tf.memory().numTensors).toBe(before);
  });
});
