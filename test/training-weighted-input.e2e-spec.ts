import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { admin } from './test-env';
import { TestStack } from './test-stack';
import { trainToCompletion, waitForServedVersion } from './train-through-api';

// the autoencoder alone: the linear item term counts each of a user's items once, whatever its weight
// (it would add the same to both shoppers' scores), so the weights move the autoencoder's share only;
// trained enough to tell the tastes apart (15 epochs at 3e-3 rank every user's popular items alike)
const CONFIG = {
  epochs: 40,
  embeddingDim: 24,
  hidden: [],
  seed: 3,
  patience: 0,
  batchSize: 50,
  learningRate: 1e-2,
  itemTerm: false,
};
const RECS = `query R($u: ID!, $limit: Int) { recommendations(userId: $u, limit: $limit) { source modelVersion items { item { id } } } }`;
const SIMILAR = `query S($item: ID!, $limit: Int) { similarItems(itemId: $item, limit: $limit) { items { item { id } } } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const SET_TYPE = `mutation T($input: FeedbackTypeInput!) { setFeedbackType(input: $input) { type } }`;
const VERSION = `query V($v: Int!) { model(version: $v) { config } }`;

describe('per-type weights (e2e): with the weighted input, a purchased item outweighs a viewed one', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  const data = generateSynthetic({ users: 400, items: 250, seed: 21, perUser: 25, clusters: 8 });

  const ids = async (query: string, variables: Record<string, unknown>) => {
    const res = await gql(api, query, variables);
    expect(res.errors).toBeUndefined();
    return Object.values(res.data!)[0].items.map((i: { item: { id: string } }) => i.item.id) as string[];
  };
  type Neighbourhoods = { a: string; b: string; nearA: Set<string>; nearB: Set<string> };
  /** Two items far apart: neither among the other's 20 nearest, and no nearest item in common. */
  async function twoNeighbourhoods(): Promise<Neighbourhoods> {
    const a = 'i0';
    const nearA = await ids(SIMILAR, { item: a, limit: 20 });
    for (let k = 1; k < 250; k++) {
      const b = `i${k}`;
      if (nearA.includes(b)) continue;
      const nearB = await ids(SIMILAR, { item: b, limit: 20 });
      if (nearB.includes(a) || nearB.some((id) => nearA.includes(id))) continue;
      return { a, b, nearA: new Set(nearA), nearB: new Set(nearB) };
    }
    throw new Error('no two items with apart neighbourhoods');
  }
  /**
   * The neighbours of A and of B as the model sees them: the first 20 recommendations of a user
   * who has only A's items that the one who has only B's does not get, and the other way round
   * (every user's own items left out). Then how many of each are among a user's first 20.
   */
  async function leaning(user: string, onlyA: string, onlyB: string, own: string[]) {
    const top = async (u: string) => (await ids(RECS, { u, limit: 30 })).filter((id) => !own.includes(id)).slice(0, 20);
    const [mine, likeA, likeB] = [await top(user), await top(onlyA), await top(onlyB)];
    const nearA = new Set(likeA.filter((id) => !likeB.includes(id)));
    const nearB = new Set(likeB.filter((id) => !likeA.includes(id)));
    expect(Math.min(nearA.size, nearB.size)).toBeGreaterThanOrEqual(5);
    return { a: mine.filter((id) => nearA.has(id)).length, b: mine.filter((id) => nearB.has(id)).length };
  }
  /**
   * Users of two tastes: one bought A and two of its neighbours and viewed B and two of its, the
   * other the other way round; and one who bought only the A items, one only the B items.
   */
  async function shoppers(tag: string, hoods: Neighbourhoods) {
    const [one, two, onlyA, onlyB] = ['buys-a', 'buys-b', 'only-a', 'only-b'].map((u) => `${u}-${tag}`);
    const a = [hoods.a, ...[...hoods.nearA].slice(0, 2)];
    const b = [hoods.b, ...[...hoods.nearB].slice(0, 2)];
    const events = (user: string, bought: string[], viewed: string[]) => [
      ...bought.map((itemId) => ({ userId: user, itemId, type: 'purchase' })),
      ...viewed.map((itemId) => ({ userId: user, itemId, type: 'view' })),
    ];
    const input = [...events(one, a, b), ...events(two, b, a), ...events(onlyA, a, []), ...events(onlyB, b, [])];
    expect((await gql(api, RECORD, { input })).data!.recordInteractions.accepted).toBe(18);
    return { one, two, onlyA, onlyB, own: [...a, ...b] };
  }

  beforeAll(async () => {
    stack = await TestStack.start({ data });
    api = stack.api;
    expect(
      (await gql(api, SET_TYPE, { input: { type: 'purchase', role: 'POSITIVE', weight: 10 } }, admin)).errors,
    ).toBeUndefined();
  });
  afterAll(() => stack.close());

  it('the binary input (the default) counts both the same: the two shoppers get the same answer', async () => {
    const { version } = await trainToCompletion(api, CONFIG);
    await waitForServedVersion(api, version);
    expect((await gql(api, VERSION, { v: version }, admin)).data!.model.config.input).toBe('binary');
    const { one, two } = await shoppers('binary', await twoNeighbourhoods());
    expect(await ids(RECS, { u: one, limit: 20 })).toEqual(await ids(RECS, { u: two, limit: 20 }));
  });

  it("the weighted input ranks the purchased item's neighbours above the viewed one's, both ways round", async () => {
    const { version } = await trainToCompletion(api, { ...CONFIG, input: 'weighted' });
    await waitForServedVersion(api, version);
    expect((await gql(api, VERSION, { v: version }, admin)).data!.model.config.input).toBe('weighted');
    const { one, two, onlyA, onlyB, own } = await shoppers('weighted', await twoNeighbourhoods());
    const [forOne, forTwo] = [await leaning(one, onlyA, onlyB, own), await leaning(two, onlyA, onlyB, own)];
    expect(forOne.a).toBeGreaterThan(forOne.b);
    expect(forTwo.b).toBeGreaterThan(forTwo.a);
  });
});
