import { initBackend } from './backend';
import { DEFAULT_DAE_CONFIG } from './dae-config';
import { evaluateRanking } from './eval/metrics';
import { DEFAULT_ITEM_TERM_OPTIONS, TUNED_ITEM_TERM_SPACE } from './fit-item-term';
import { sliceRows } from './interaction-matrix';
import { syntheticStrongSplit } from './synthetic-split.fixture';
import { DEFAULT_TRAIN_OPTIONS } from './train-dae';
import { trainModel } from './train-model';

const split = syntheticStrongSplit({ users: 400, items: 150, seed: 7, perUser: 20, clusters: 6 }, 3);
// a small, briefly trained autoencoder: the term has room to help
const config = { ...DEFAULT_DAE_CONFIG, embeddingDim: 8 };
const options = {
  ...DEFAULT_TRAIN_OPTIONS,
  seed: 4,
  epochs: 3,
  patience: 0,
  batchSize: 50,
  threads: 1,
  validationK: 10,
  validation: split.validation!,
};
const ndcg10 = (model: { scores(rows: import('./interaction-matrix').CsrMatrix): Float32Array }, set = split.test) =>
  evaluateRanking((rows, a, b) => model.scores(sliceRows(rows, a, b)), set.input, set.heldOut, [
    { name: 'ndcg@10', kind: 'ndcg', k: 10 },
  ])['ndcg@10'];

beforeAll(async () => {
  await initBackend();
});

describe(trainModel.name, () => {
  it('adds the item term chosen on the validation users when it scores them better, and says what it chose', async () => {
    const { model, itemTerm } = await trainModel(split.train, config, { ...options, itemTerm: {} });
    const alone = model.withItemTerm(null);
    try {
      expect(itemTerm!.info).toMatchObject({ dropout: 0.5, topK: 200 });
      expect(DEFAULT_ITEM_TERM_OPTIONS.lambdas).toContain(itemTerm!.info!.lambda);
      expect(DEFAULT_ITEM_TERM_OPTIONS.alphas).toContain(itemTerm!.info!.alpha);
      expect(model.itemTerm!.info).toEqual(itemTerm!.info);
      // the choice's figures are the validation users' NDCG@10 of what is returned, with and without the term, to the bit
      expect(itemTerm!.validation!.withTerm).toBeGreaterThan(itemTerm!.validation!.autoencoder);
      expect(itemTerm!.validation!.withTerm).toBe(ndcg10(model, split.validation!));
      expect(itemTerm!.validation!.autoencoder).toBe(ndcg10(alone, split.validation!));
    } finally {
      model.dispose();
      alone.dispose();
    }
  });

  it("searches a tuned training's wider space, which holds the default's: never worse on validation", async () => {
    const plain = await trainModel(split.train, config, { ...options, itemTerm: {} });
    const tuned = await trainModel(split.train, config, { ...options, itemTerm: TUNED_ITEM_TERM_SPACE });
    expect(TUNED_ITEM_TERM_SPACE.dropouts).toContain(tuned.itemTerm!.info!.dropout);
    expect(TUNED_ITEM_TERM_SPACE.lambdas).toEqual(expect.arrayContaining([...DEFAULT_ITEM_TERM_OPTIONS.lambdas]));
    expect(tuned.itemTerm!.validation!.withTerm).toBeGreaterThanOrEqual(plain.itemTerm!.validation!.withTerm);
    [plain, tuned].forEach((r) => r.model.dispose());
  });

  it('serves the autoencoder alone when asked, above the catalogue limit, or without validation users', async () => {
    const off = await trainModel(split.train, config, { ...options, itemTerm: false });
    expect(off.itemTerm).toBeNull();
    expect(off.model.itemTerm).toBeNull();
    const large = await trainModel(split.train, config, { ...options, itemTerm: { maxItems: 100 } });
    expect(large.itemTerm).toMatchObject({ info: null, skipped: 'catalogue too large' });
    expect(large.model.itemTerm).toBeNull();
    // the same seed and data: the same autoencoder either way
    expect(ndcg10(large.model)).toBe(ndcg10(off.model));
    const blind = await trainModel(split.train, config, {
      ...options,
      validation: undefined,
      carveValidation: 0,
      itemTerm: {},
    });
    expect(blind.itemTerm).toMatchObject({ info: null, skipped: 'no validation users' });
    [off, large, blind].forEach((r) => r.model.dispose());
  });
});
