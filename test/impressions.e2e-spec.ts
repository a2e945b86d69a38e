import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { TestStack } from './test-stack';

const RECS = `query R($u: ID!, $limit: Int) {
  recommendations(userId: $u, limit: $limit) { recommendationId source items { position item { id } } } }`;
const SIMILAR_PREVIEW = `query S($item: ID!) { similarItems(itemId: $item, preview: true) { recommendationId } }`;
const SESSION = `query S($items: [ID!]!) { recommendationsForItems(itemIds: $items) { recommendationId items { position } } }`;

type Answer = { recommendationId: string | null; ids: string[]; positions: number[] };

describe('recommendation ids and impressions (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  const data = generateSynthetic({ users: 60, items: 40, seed: 5, perUser: 8, clusters: 4 });

  async function recs(user: string, limit = 5): Promise<Answer> {
    const res = await gql(api, RECS, { u: user, limit });
    expect(res.errors).toBeUndefined();
    const r = res.data!.recommendations as {
      recommendationId: string | null;
      items: { position: number; item: { id: string } }[];
    };
    return {
      recommendationId: r.recommendationId,
      ids: r.items.map((i) => i.item.id),
      positions: r.items.map((i) => i.position),
    };
  }

  beforeAll(async () => {
    stack = await TestStack.start({ data, worker: false });
    api = stack.api;
  });
  afterAll(() => stack.close());

  it('every answer carries a signed id and numbers its items from 1; a preview has no id', async () => {
    const answer = await recs('newcomer-1');
    expect(answer.ids).toHaveLength(5);
    expect(answer.positions).toEqual([1, 2, 3, 4, 5]);
    expect(answer.recommendationId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const session = await gql(api, SESSION, { items: ['i1', 'i2'] });
    expect(session.data!.recommendationsForItems.recommendationId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(session.data!.recommendationsForItems.items[0].position).toBe(1);
    const preview = await gql(api, SIMILAR_PREVIEW, { item: 'i1' });
    expect(preview.errors).toBeUndefined();
    expect(preview.data!.similarItems.recommendationId).toBeNull();
  });
});
