import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateSynthetic, syntheticUserId } from '@app/synthetic';
import { firstErrorCode, gql } from '@app/testing';
import { TestStack } from './test-stack';
import { admin } from './test-env';
import { trainToCompletion } from './train-through-api';
const CONFIG = { epochs: 20, embeddingDim: 32, hidden: [64], seed: 4, patience: 0, batchSize: 50, learningRate: 3e-3 };
const USERS = 1000;

describe('anomaly scores (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;

  beforeAll(async () => {
    stack = await TestStack.start();
    api = stack.api;
  });
  afterAll(() => stack.close());

  async function trainOn(kind: 'random' | 'shilling'): Promise<string[]> {
    const data = generateSynthetic({
      users: USERS,
      items: 400,
      seed: 31,
      perUser: 25,
      clusters: 10,
      bots: { share: 0.01, kind },
    });
    await stack.reset(data);
    const { version } = await trainToCompletion(api, CONFIG);
    // the API switches to the new model on the pub/sub message
    for (
      let i = 0;
      i < 100 &&
      (await gql(api, `{ userAnomaly(userId: "u1") { version } }`, {}, admin)).data?.userAnomaly?.version !== version;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return Array.from(data.botUsers, syntheticUserId);
  }

  const topTwoPercent = async () => {
    const res = await gql(
      api,
      `{ anomalousUsers(limit: 1000, minPercentile: 98) { userId score percentile } }`,
      {},
      admin,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.anomalousUsers as Array<{ userId: string; score: number; percentile: number }>;
  };

  it.each(['random', 'shilling'] as const)('ranks at least 80%% of injected %s bots in the top 2%%', async (kind) => {
    const bots = await trainOn(kind);
    expect(bots).toHaveLength(USERS / 100);
    const top = await topTwoPercent();
    expect(top.length).toBeLessThanOrEqual(Math.ceil(0.02 * (USERS + bots.length)) + 1);
    const caught = bots.filter((b) => top.some((t) => t.userId === b));
    expect(caught.length / bots.length).toBeGreaterThanOrEqual(0.8);
    // and the scores read back per user agree
    const one = (
      await gql(
        api,
        `query A($u: ID!) { userAnomaly(userId: $u) { score percentile source } }`,
        { u: caught[0] },
        admin,
      )
    ).data!.userAnomaly;
    expect(one.source).toBe('EMBEDDING');
    expect(one.percentile).toBeGreaterThanOrEqual(98);
  });

  it('scores a user with newer interactions on the spot', async () => {
    const rec = await gql(
      api,
      `mutation { recordInteractions(input: [{ userId: "u5", itemId: "i1" }, { userId: "u5", itemId: "i2" }]) { accepted } }`,
    );
    expect(rec.errors).toBeUndefined();
    const res = (await gql(api, `{ userAnomaly(userId: "u5") { score percentile source } }`, {}, admin)).data!
      .userAnomaly;
    expect(res.source).toBe('FOLD_IN');
    expect(res.percentile).toBeGreaterThanOrEqual(0);
    expect(res.percentile).toBeLessThanOrEqual(100);
    expect(firstErrorCode(await gql(api, `{ anomalousUsers(limit: 5) { userId } }`))).toBe('UNAUTHENTICATED');
  });
});
