import { generateSynthetic, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { initBackend } from './backend';
import { DEFAULT_DAE_CONFIG } from './dae-config';
import { IdIndex } from './interaction-matrix';
import { strongGeneralizationSplit } from './eval/splits';
import { DEFAULT_TRAIN_OPTIONS } from './train-dae';
import { fixedIn, TuneSpace, tuneDae } from './tune-dae';

const d = generateSynthetic({ users: 300, items: 120, seed: 5, perUser: 20, clusters: 5 });
const split = strongGeneralizationSplit(
  {
    users: IdIndex.from(Array.from({ length: d.users }, (_, u) => syntheticUserId(u))),
    items: IdIndex.from(Array.from({ length: d.items }, (_, i) => syntheticItemId(i))),
    user: d.user,
    item: d.item,
    weight: d.weight,
  },
  5,
  { heldOutUsers: 0.15, foldIn: 0.8 },
);
const base = {
  config: { ...DEFAULT_DAE_CONFIG, embeddingDim: 16 },
  options: { ...DEFAULT_TRAIN_OPTIONS, seed: 2, batchSize: 50, threads: 1 },
};
// small networks so a search of a few seconds holds many candidates
const SPACE: TuneSpace = { hidden: [[]], embeddingDim: [8, 16, 32], loss: ['logistic', 'multinomial'], dropout: [0.2, 0.5, 0.8], learningRate: [1e-3, 1e-2], weightDecay: [0, 1e-3] };

beforeAll(async () => {
  await initBackend();
});

describe(tuneDae.name, () => {
  it('starts from the given settings, keeps the best third of each rung and returns the best of the last', async () => {
    const result = await tuneDae(split.train, split.validation!, base, { budgetSeconds: 600, space: SPACE, firstRungEpochs: 2, candidates: 9 });
    expect(result.trials[0]).toMatchObject({ candidate: 0, rung: 0, settings: { embeddingDim: 16, dropout: 0.5, learningRate: 3e-3 } });
    expect(result.trials.map((t) => t.rung)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2]);
    const lastRung = 2;
    const best = result.trials.filter((t) => t.rung === lastRung).reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
    expect(result.settings).toEqual(best.settings);
    // each later rung trains the best third of the one before, three times longer
    const firstRung = result.trials.filter((t) => t.rung === 0);
    const promoted = result.trials.filter((t) => t.rung === 1);
    const cut = [...firstRung].sort((a, b) => b.ndcg - a.ndcg)[promoted.length - 1].ndcg;
    for (const t of promoted) {
      expect(t.epochs).toBe(6);
      expect(firstRung.find((f) => f.candidate === t.candidate)!.ndcg).toBeGreaterThanOrEqual(cut);
    }
  });

  it('stops where the budget runs out', async () => {
    const result = await tuneDae(split.train, split.validation!, base, { budgetSeconds: 0.01, space: SPACE, firstRungEpochs: 2, candidates: 9 });
    // the first trial sizes the search; nothing starts after the budget is spent
    expect(result.trials).toHaveLength(1);
    expect(result.settings).toEqual(result.trials[0].settings);
  });

  it('draws the same candidates for the same seed', async () => {
    const run = async () => (await tuneDae(split.train, split.validation!, base, { budgetSeconds: 2, space: SPACE, firstRungEpochs: 1 })).trials.filter((t) => t.rung === 0).map((t) => t.settings);
    const [a, b] = [await run(), await run()];
    const shared = Math.min(a.length, b.length);
    expect(shared).toBeGreaterThan(1);
    expect(a.slice(0, shared)).toEqual(b.slice(0, shared));
  });

  it('searches only what is left open', async () => {
    const space = fixedIn(SPACE, { dropout: 0.2, loss: 'multinomial' });
    const result = await tuneDae(split.train, split.validation!, { ...base, options: { ...base.options, dropout: 0.2 }, config: { ...base.config, loss: 'multinomial' } }, { budgetSeconds: 600, space, firstRungEpochs: 1, candidates: 6 });
    expect(new Set(result.trials.map((t) => `${t.settings.dropout} ${t.settings.loss}`))).toEqual(new Set(['0.2 multinomial']));
    expect(new Set(result.trials.map((t) => `${t.settings.embeddingDim} ${t.settings.learningRate} ${t.settings.weightDecay}`)).size).toBeGreaterThan(1);
  });

  it('refuses a budget that is not positive', async () => {
    await expect(tuneDae(split.train, split.validation!, base, { budgetSeconds: 0 })).rejects.toThrow(/budgetSeconds/);
  });
});
