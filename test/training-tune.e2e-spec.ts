import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateSynthetic } from '@app/synthetic';
import { firstErrorCode, gql } from '@app/testing';
import { TestStack } from './test-stack';
import { admin } from './test-env';
import { trainToCompletion } from './train-through-api';

const RETRAIN = `mutation R($config: TrainingConfigInput) { retrain(config: $config) { id } }`;
const MODEL = `query M($v: Int) { model(version: $v) { version status config timings } }`;

describe('retrain with a tuning budget (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  const data = generateSynthetic({ users: 300, items: 150, seed: 21, perUser: 20, clusters: 6 });

  beforeAll(async () => {
    stack = await TestStack.start({ data });
    ({ api } = stack);
  });
  afterAll(() => stack.close());

  it('refuses a budget out of range, naming the field', async () => {
    for (const budgetSeconds of [0, 5, 100_000]) {
      const res = await gql(api, RETRAIN, { config: { tune: { budgetSeconds } } }, admin);
      expect(firstErrorCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toContain('config.tune.budgetSeconds');
    }
  });

  it('searches what the request leaves open, trains the choice and stores every trial with the version', async () => {
    const asked = { epochs: 8, embeddingDim: 16, hidden: [], batchSize: 50, seed: 4, tune: { budgetSeconds: 10 } };
    const { version } = await trainToCompletion(api, asked);
    const model = (await gql(api, MODEL, { v: version }, admin)).data!.model;
    const tune = model.config.tune;
    expect(tune.budgetSeconds).toBe(10);
    expect(tune.trials.length).toBeGreaterThan(1);
    // the request's own embeddingDim and depth were not searched; the rest was
    expect(new Set(tune.trials.map((t: { embeddingDim: number }) => t.embeddingDim))).toEqual(new Set([16]));
    expect(
      new Set(tune.trials.map((t: { dropout: number; learningRate: number }) => `${t.dropout} ${t.learningRate}`)).size,
    ).toBeGreaterThan(1);
    // the served model is the chosen settings: the best trained to convergence, or the request's own
    // settings (the first trial) when the budget ended the search before the last rung
    const finals = tune.trials.filter((t: { rung: number }) => t.rung === 2);
    const best = finals.length
      ? finals.reduce((a: { ndcg: number }, b: { ndcg: number }) => (b.ndcg > a.ndcg ? b : a))
      : tune.trials[0];
    for (const key of ['dropout', 'learningRate', 'weightDecay', 'loss'] as const) {
      expect(tune.chosen[key]).toEqual(best[key]);
      expect(model.config[key]).toEqual(tune.chosen[key]);
    }
    expect(model.timings.tune).toBeGreaterThan(0);
  });
});
