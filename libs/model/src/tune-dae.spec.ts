import { initBackend } from './backend';
import { DEFAULT_DAE_CONFIG } from './dae-config';
import { syntheticStrongSplit } from './synthetic-split.fixture';
import { DEFAULT_TRAIN_OPTIONS } from './train-dae';
import { fixedIn, TuneOptions, TuneSpace, tuneDae } from './tune-dae';

const split = syntheticStrongSplit({ users: 300, items: 120, seed: 5, perUser: 20, clusters: 5 }, 5);
const base = {
  config: { ...DEFAULT_DAE_CONFIG, embeddingDim: 16 },
  options: { ...DEFAULT_TRAIN_OPTIONS, seed: 2, batchSize: 50, threads: 1 },
};
// small networks so a search of a few seconds holds many candidates
const SPACE: TuneSpace = {
  hidden: [[]],
  embeddingDim: [8, 16, 32],
  loss: ['logistic', 'multinomial'],
  dropout: [0.2, 0.5, 0.8],
  learningRate: [1e-3, 1e-2],
  weightDecay: [0, 1e-3],
};

beforeAll(async () => {
  await initBackend();
});

/** A search of SPACE from `settings`; by default a budget it does not reach, so `candidates` are all tried, whatever the load. */
const tune = (search: Partial<TuneOptions> & { candidates: number }, settings = base) =>
  tuneDae(split.train, split.validation!, settings, {
    budgetSeconds: 600,
    space: SPACE,
    firstRungEpochs: 1,
    ...search,
  });

describe(tuneDae.name, () => {
  it('starts from the given settings, keeps the best third, and trains the last rung to convergence beside the given settings', async () => {
    const result = await tune({ firstRungEpochs: 2, candidates: 9 });
    const byRung = (r: number) => result.trials.filter((t) => t.rung === r);
    expect(result.trials[0]).toMatchObject({
      candidate: 0,
      rung: 0,
      settings: { embeddingDim: 16, dropout: 0.5, learningRate: 3e-3 },
    });
    expect(byRung(0)).toHaveLength(9);
    // the second rung trains the best third of the first, three times longer
    const cut = [...byRung(0)].sort((a, b) => b.ndcg - a.ndcg)[2].ndcg;
    expect(byRung(1)).toHaveLength(3);
    for (const t of byRung(1)) {
      expect(t.epochs).toBe(6);
      expect(byRung(0).find((f) => f.candidate === t.candidate)!.ndcg).toBeGreaterThanOrEqual(cut);
    }
    // the last rung: the given settings and the second rung's best, each to convergence (the caller's epochs and patience)
    const leader = byRung(1).reduce((a, b) => (b.ndcg > a.ndcg ? b : a)).candidate;
    expect(byRung(2).map((t) => t.candidate)).toEqual(leader === 0 ? [0] : [0, leader]);
    for (const t of byRung(2)) expect(t.epochs).toBe(base.options.epochs);
    const best = byRung(2).reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
    expect(result.settings).toEqual(best.settings);
  });

  it('stops where the budget runs out', async () => {
    const result = await tune({ budgetSeconds: 0.01, firstRungEpochs: 2, candidates: 9 });
    // the first trial sizes the search; nothing starts after the budget is spent
    expect(result.trials).toHaveLength(1);
    expect(result.settings).toEqual(result.trials[0].settings);
  });

  it('draws the same candidates for the same seed', async () => {
    const run = async () => (await tune({ candidates: 4 })).trials.filter((t) => t.rung === 0).map((t) => t.settings);
    const [a, b] = [await run(), await run()];
    const shared = Math.min(a.length, b.length);
    expect(shared).toBeGreaterThan(1);
    expect(a.slice(0, shared)).toEqual(b.slice(0, shared));
  });

  it('searches only what is left open', async () => {
    const space = fixedIn(SPACE, { dropout: 0.2, loss: 'multinomial' });
    const result = await tune(
      { space, candidates: 6 },
      { ...base, options: { ...base.options, dropout: 0.2 }, config: { ...base.config, loss: 'multinomial' } },
    );
    expect(new Set(result.trials.map((t) => `${t.settings.dropout} ${t.settings.loss}`))).toEqual(
      new Set(['0.2 multinomial']),
    );
    expect(
      new Set(
        result.trials.map((t) => `${t.settings.embeddingDim} ${t.settings.learningRate} ${t.settings.weightDecay}`),
      ).size,
    ).toBeGreaterThan(1);
  });

  it('refuses a budget that is not positive', async () => {
    await expect(tuneDae(split.train, split.validation!, base, { budgetSeconds: 0 })).rejects.toThrow(/budgetSeconds/);
  });
});
