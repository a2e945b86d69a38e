import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RedisClient } from '@app/redis';
import type { Pool } from 'pg';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { DecodeSource } from '../apps/api/src/recommendations/sources/decode.source';
import { admin } from './test-env';
import { TestStack } from './test-stack';
import { trainToCompletion, waitForServedVersion } from './train-through-api';
import { feedbackKey, userKey } from '@app/embedding-store';

const CONFIG = { epochs: 15, embeddingDim: 24, hidden: [64], seed: 3, patience: 0, batchSize: 50, learningRate: 3e-3 };
const RECS = `query R($u: ID!, $limit: Int, $excludeSeen: Boolean, $filter: ItemFilter) {
  recommendations(userId: $u, limit: $limit, excludeSeen: $excludeSeen, filter: $filter) { source modelVersion items { item { id } } } }`;
const SESSION = `query S($items: [ID!]!, $u: ID, $limit: Int) {
  recommendationsForItems(itemIds: $items, userId: $u, limit: $limit) { source items { item { id } } } }`;
const SIMILAR = `query S($item: ID!, $u: ID, $limit: Int) { similarItems(itemId: $item, userId: $u, limit: $limit) { source items { item { id } } } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const REPORT = `mutation I($rid: String!, $items: [ID!]!) { reportImpressions(recommendationId: $rid, itemIds: $items) { accepted } }`;
const RECS_ID = `query R($u: ID!) { recommendations(userId: $u, limit: 10, excludeSeen: false) { recommendationId source items { item { id } } } }`;
const SET_TYPE = `mutation T($input: FeedbackTypeInput!) { setFeedbackType(input: $input) { type role } }`;

type Answer = { source: string; modelVersion: number | null; ids: string[] };

describe('negative feedback (e2e): a NEGATIVE event hides the item from the user on every path', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let db: Pool;
  let redis: RedisClient;
  const data = generateSynthetic({ users: 400, items: 250, seed: 21, perUser: 25, clusters: 8 });

  const asIds = (res: {
    source?: string;
    modelVersion?: number | null;
    items: { item: { id: string } }[];
  }): Answer => ({
    source: res.source ?? '',
    modelVersion: res.modelVersion ?? null,
    ids: res.items.map((i) => i.item.id),
  });
  async function recs(user: string, limit: number, excludeSeen: boolean, filter?: object): Promise<Answer> {
    const res = await gql(api, RECS, { u: user, limit, excludeSeen, filter });
    expect(res.errors).toBeUndefined();
    return asIds(res.data!.recommendations);
  }
  async function session(items: string[], user: string | null, limit = 20): Promise<Answer> {
    const res = await gql(api, SESSION, { items, u: user, limit });
    expect(res.errors).toBeUndefined();
    return asIds(res.data!.recommendationsForItems);
  }
  async function similar(item: string, user: string | null, limit = 20): Promise<Answer> {
    const res = await gql(api, SIMILAR, { item, u: user, limit });
    expect(res.errors).toBeUndefined();
    return asIds(res.data!.similarItems);
  }
  async function record(user: string, item: string, type: string, at = new Date()): Promise<void> {
    const res = await gql(api, RECORD, { input: [{ userId: user, itemId: item, type, occurredAt: at.toISOString() }] });
    expect(res.data!.recordInteractions.accepted).toBe(1);
  }
  const seenBy = async (user: string) =>
    new Set(
      (
        await db.query(
          `SELECT i.external_id AS id FROM interactions x JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id WHERE u.external_id = $1`,
          [user],
        )
      ).rows.map((r) => r.id as string),
    );
  /** Once the fold-in's write-through has landed, the user is answered from the cache again. */
  async function cachedAgain(user: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if ((await redis.hexists(userKey(version, user), 'stale')) === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${user} was not written back`);
  }
  /** `without` less `item`, in order: what leaving one item out of a ranking must give. */
  const lessOne = (without: string[], item: string, n: number) => without.filter((id) => id !== item).slice(0, n);
  let version: number;

  beforeAll(async () => {
    stack = await TestStack.start({ data });
    ({ api, db, redis } = stack);
    const declared = await gql(api, SET_TYPE, { input: { type: 'dislike', role: 'NEGATIVE' } }, admin);
    expect(declared.data!.setFeedbackType).toEqual({ type: 'dislike', role: 'NEGATIVE' });
    version = (await trainToCompletion(api, CONFIG)).version;
    await waitForServedVersion(api, version);
  });
  afterAll(() => stack.close());

  it('a seen item that excludeSeen: false keeps: gone from the very next answer, then from the cached list, a decode and a filtered answer, and from later models, until a later POSITIVE event', async () => {
    const user = 'u5';
    const before = await recs(user, 10, false);
    expect(before.source).toBe('EMBEDDING');
    const seen = await seenBy(user);
    // the best-ranked item the user has seen: excludeSeen false keeps it
    const hated = before.ids.find((id) => seen.has(id))!;
    expect(hated).toBeDefined();

    await record(user, hated, 'dislike');
    // the very next answer folds the user in (their embedding is stale) and leaves the item out
    const next = await recs(user, 10, false);
    expect(next.source).toBe('FOLD_IN');
    expect(next.ids).not.toContain(hated);
    expect(next.ids).toHaveLength(10);

    // the fold-in's list is cached again: the cached list answers, with no decode, still without it
    await cachedAgain(user);
    const decode = jest.spyOn(stack.api.get(DecodeSource), 'answer');
    try {
      const cached = await recs(user, 10, false);
      expect(cached.source).toBe('EMBEDDING');
      expect(decode).not.toHaveBeenCalled();
      expect(cached.ids).not.toContain(hated);
      expect(cached.ids).toEqual(next.ids);
      // more than the cached list holds: a decode of the whole catalogue
      const decoded = await recs(user, 150, false);
      expect(decode).toHaveBeenCalledTimes(1);
      expect(decoded.source).toBe('EMBEDDING');
      expect(decoded.ids).toHaveLength(150);
      expect(decoded.ids).not.toContain(hated);
      // a filter that asks for the item by id: ranked over the full row, and still left out
      const asked = [hated, ...decoded.ids.slice(0, 4)];
      const filtered = await recs(user, 5, false, { includeIds: asked });
      expect(filtered.ids.sort()).toEqual(asked.slice(1).sort());
      // excludeSeen true, for the record
      expect((await recs(user, 150, true)).ids).not.toContain(hated);
    } finally {
      decode.mockRestore();
    }

    // a later model: trained without it as input, and it stays hidden
    const { version: later } = await trainToCompletion(api, { ...CONFIG, seed: 4 });
    await waitForServedVersion(api, later);
    const fromLater = await recs(user, 10, false);
    expect(fromLater).toMatchObject({ source: 'EMBEDDING', modelVersion: later });
    expect(fromLater.ids).not.toContain(hated);
    version = later;

    // a POSITIVE event after the NEGATIVE one lifts it: a seen item, kept, ranked as before
    await record(user, hated, 'view', new Date(Date.now() + 1000));
    const lifted = await recs(user, 20, false);
    expect(lifted.source).toBe('FOLD_IN');
    expect(lifted.ids).toContain(hated);
  });

  it('an unseen item: gone from the next answer and every later one; a POSITIVE event dated before the NEGATIVE one does not lift it', async () => {
    const user = 'u9';
    const before = await recs(user, 10, true);
    const hated = before.ids[0];
    await record(user, hated, 'dislike');
    expect((await recs(user, 10, true)).ids).not.toContain(hated);
    await cachedAgain(user);
    expect((await recs(user, 10, true)).ids).not.toContain(hated);
    await record(user, hated, 'view', new Date(Date.now() - 3_600_000));
    const after = await recs(user, 50, false);
    expect(after.source).toBe('FOLD_IN');
    expect(after.ids).not.toContain(hated);
  });

  it('recommendationsForItems and similarItems leave out the item for the user named, and only for them', async () => {
    const user = 'u11';
    const neighbours = (await similar('i3', null)).ids;
    const sessionItems = ['i7', 'i8', 'i9'];
    const anonymous = await session(sessionItems, null);
    // nothing recorded yet: the user's answers are the anonymous ones
    expect((await session(sessionItems, user)).ids).toEqual(anonymous.ids);
    expect((await similar('i3', user)).ids).toEqual(neighbours);

    const [hatedInSession, hatedNeighbour] = [anonymous.ids[0], neighbours[0]];
    await record(user, hatedInSession, 'dislike');
    await record(user, hatedNeighbour, 'dislike');
    const forUser = await session(sessionItems, user);
    expect(forUser.source).toBe('FOLD_IN');
    expect(forUser.ids.slice(0, 18)).toEqual(lessOne(lessOne(anonymous.ids, hatedInSession, 20), hatedNeighbour, 18));
    expect((await session(sessionItems, 'u12')).ids).toEqual(anonymous.ids);

    const similarForUser = await similar('i3', user);
    expect(similarForUser.ids).not.toContain(hatedNeighbour);
    expect(similarForUser.ids.slice(0, 18)).toEqual(
      lessOne(lessOne(neighbours, hatedNeighbour, 20), hatedInSession, 18),
    );
    expect((await similar('i3', 'u12')).ids).toEqual(neighbours);
  });

  it('a user the model cannot place: the popularity answer leaves out what they disliked, and the dislike is no positive', async () => {
    const stranger = (await recs('never-seen', 6, true)).ids;
    await record('newcomer', stranger[0], 'dislike');
    const answer = await recs('newcomer', 5, true);
    // a NEGATIVE event is no history to fold in: still a cold start, less the item
    expect(answer.source).toBe('POPULARITY');
    expect(answer.ids).toEqual(lessOne(stranger, stranger[0], 5));
  });

  it('keeps the feedback state in Redis under the user as a hash tag, read instead of Postgres while it is current', async () => {
    const user = 'u5';
    // the answers above wrote it back
    const state = await redis.hgetall(feedbackKey(user));
    expect(JSON.parse(state.neg)).toEqual([]);
    expect(state.stale).toBeUndefined();
    // a dislike marks it out of date; the next answer reads Postgres and writes it again
    const item = (await recs(user, 1, true)).ids[0];
    await record(user, item, 'dislike');
    expect(await redis.hget(feedbackKey(user), 'stale')).not.toBeNull();
    expect((await recs(user, 10, true)).ids).not.toContain(item);
    for (let i = 0; i < 50 && (await redis.hget(feedbackKey(user), 'stale')) !== null; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(JSON.parse((await redis.hget(feedbackKey(user), 'neg'))!)).toEqual([item]);
    // what Redis holds is what the answer follows: Postgres is not asked again
    await redis.hset(feedbackKey(user), 'neg', JSON.stringify([item, 'i0', 'i1', 'i2']));
    const ids = (await recs(user, 250, true)).ids;
    expect(ids.filter((id) => [item, 'i0', 'i1', 'i2'].includes(id))).toEqual([]);
  });

  it('exposure: an item shown 3 times is left out of the cached list, a decode and a filtered answer with excludeSeen: false, until a POSITIVE event', async () => {
    const user = 'u30';
    const answer = (await gql(api, RECS_ID, { u: user })).data!.recommendations;
    expect(answer.source).toBe('EMBEDDING');
    const item = answer.items[0].item.id as string;
    // three screens showed it, each reporting the same answer
    for (let i = 0; i < 3; i++) {
      const res = await gql(api, REPORT, { rid: answer.recommendationId, items: [item] });
      expect(res.data!.reportImpressions.accepted).toBe(1);
    }
    const shows = async () =>
      (
        await db.query(
          `SELECT coalesce(sum(x.shows), 0)::int AS n FROM impressions x JOIN users u ON u.id = x.user_id
           JOIN items i ON i.id = x.item_id WHERE u.external_id = $1 AND i.external_id = $2`,
          [user, item],
        )
      ).rows[0].n as number;
    for (let i = 0; i < 200 && (await shows()) < 3; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 200 && (await redis.hget(feedbackKey(user), 'stale')) === null; i++)
      await new Promise((r) => setTimeout(r, 50));

    const decode = jest.spyOn(stack.api.get(DecodeSource), 'answer');
    try {
      const cached = await recs(user, 10, false);
      // the embedding is current (no event was recorded): the cached list answers, less the item
      expect(cached.source).toBe('EMBEDDING');
      expect(decode).not.toHaveBeenCalled();
      expect(cached.ids).not.toContain(item);
      expect(cached.ids.slice(0, 9)).toEqual(answer.items.slice(1).map((i: { item: { id: string } }) => i.item.id));
      const decoded = await recs(user, 150, false);
      expect(decode).toHaveBeenCalledTimes(1);
      expect(decoded.ids).not.toContain(item);
      const asked = [item, ...decoded.ids.slice(0, 4)];
      expect((await recs(user, 5, false, { includeIds: asked })).ids.sort()).toEqual(asked.slice(1).sort());
    } finally {
      decode.mockRestore();
    }
    // engaging with it resets the count: back in the next answer (a fold-in: the event made the embedding stale)
    await record(user, item, 'view');
    const after = await recs(user, 10, false);
    expect(after.source).toBe('FOLD_IN');
    expect(after.ids).toContain(item);
  });
});
