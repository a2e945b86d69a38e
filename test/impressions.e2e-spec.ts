import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateSynthetic } from '@app/synthetic';
import { firstErrorCode, gql } from '@app/testing';
import { admin } from './test-env';
import { createTestApiApp } from './create-test-app';
import { TestStack } from './test-stack';
import { feedbackKey } from '@app/embedding-store';

const RECS = `query R($u: ID!, $limit: Int, $ex: Boolean) {
  recommendations(userId: $u, limit: $limit, excludeSeen: $ex) { recommendationId source items { position item { id } } } }`;
const SIMILAR_PREVIEW = `query S($item: ID!) { similarItems(itemId: $item, preview: true) { recommendationId } }`;
const REPORT = `mutation I($rid: String!, $items: [ID!]!) { reportImpressions(recommendationId: $rid, itemIds: $items) { accepted } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const SET_TYPE = `mutation T($input: FeedbackTypeInput!) { setFeedbackType(input: $input) { type } }`;
const SESSION = `query S($items: [ID!]!) { recommendationsForItems(itemIds: $items) { recommendationId items { position } } }`;

type Answer = { recommendationId: string | null; ids: string[]; positions: number[] };

describe('recommendation ids and impressions (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  const data = generateSynthetic({ users: 60, items: 40, seed: 5, perUser: 8, clusters: 4 });

  async function recs(user: string, limit = 5, excludeSeen = true): Promise<Answer> {
    const res = await gql(api, RECS, { u: user, limit, ex: excludeSeen });
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

  /** The user's stored roll-ups, by item: shows summed over weeks. */
  async function storedShows(user: string): Promise<Map<string, number>> {
    const { rows } = await stack.db.query(
      `SELECT i.external_id AS item, sum(x.shows)::int AS shows FROM impressions x
       JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id WHERE u.external_id = $1 GROUP BY 1`,
      [user],
    );
    return new Map(rows.map((r: { item: string; shows: number }) => [r.item, r.shows]));
  }
  /** Until the user's stored shows of `item` reach `shows` (the buffer writes every IMPRESSIONS_FLUSH_MS). */
  async function storedAtLeast(user: string, item: string, shows: number): Promise<Map<string, number>> {
    for (let i = 0; i < 400; i++) {
      const stored = await storedShows(user);
      if ((stored.get(item) ?? 0) >= shows) return stored;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${user}'s impressions of ${item} never reached ${shows}`);
  }
  async function report(rid: string | null, items: string[]) {
    return gql(api, REPORT, { rid, items });
  }

  it('reportImpressions counts the items shown per user and item, rolled up in one row a week', async () => {
    const user = 'u3';
    const first = await recs(user);
    const second = await recs(user);
    const shown = first.ids.slice(0, 3);
    expect((await report(first.recommendationId, shown)).data!.reportImpressions.accepted).toBe(3);
    // the same item twice in one call counts once
    const twice = [second.ids[0], second.ids[0]];
    expect((await report(second.recommendationId, twice)).data!.reportImpressions.accepted).toBe(1);
    const stored = await storedAtLeast(user, shown[2], 1);
    const expected = new Map(shown.map((id) => [id, 1]));
    expected.set(second.ids[0], (expected.get(second.ids[0]) ?? 0) + 1);
    expect(await storedAtLeast(user, second.ids[0], expected.get(second.ids[0])!)).toEqual(expected);
    expect(stored.size).toBeGreaterThan(0);
    const { rows } = await stack.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT week)::int AS weeks, min(extract(isodow FROM week))::int AS dow
       FROM impressions x JOIN users u ON u.id = x.user_id WHERE u.external_id = $1`,
      [user],
    );
    // one row per item (the same week), the week named by its Monday
    expect(rows[0]).toEqual({ n: expected.size, weeks: 1, dow: 1 });
  });

  it('refuses an item that was not in the answer, a changed id and one for another user, with clear codes', async () => {
    const answer = await recs('u4');
    const notShown = await report(answer.recommendationId, [answer.ids[0], 'i-not-in-it']);
    expect(firstErrorCode(notShown)).toBe('BAD_USER_INPUT');
    expect(notShown.errors![0].message).toContain('itemIds[1]');
    const token = answer.recommendationId!;
    const changed = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    expect(firstErrorCode(await report(changed, [answer.ids[0]]))).toBe('INVALID_RECOMMENDATION_ID');
    expect(firstErrorCode(await report('nonsense', [answer.ids[0]]))).toBe('INVALID_RECOMMENDATION_ID');
    // an event naming a bad id fails its batch, naming the event
    const bad = await gql(api, RECORD, { input: [{ userId: 'u4', itemId: answer.ids[0], recommendationId: changed }] });
    expect(firstErrorCode(bad)).toBe('INVALID_RECOMMENDATION_ID');
    expect(bad.errors![0].extensions).toMatchObject({ index: 0, field: 'recommendationId' });
    // an id for another user
    const other = await gql(api, RECORD, {
      input: [{ userId: 'u5', itemId: answer.ids[0], recommendationId: token }],
    });
    expect(firstErrorCode(other)).toBe('BAD_USER_INPUT');
    // nothing was counted
    expect(await storedShows('u4')).toEqual(new Map());
  });

  it("an event naming its recommendationId keeps the answer's model version, query and time", async () => {
    const answer = await recs('u6');
    const res = await gql(api, RECORD, {
      input: [
        { userId: 'u6', itemId: answer.ids[1], type: 'clicked-through', recommendationId: answer.recommendationId },
      ],
    });
    expect(res.data!.recordInteractions.accepted).toBe(1);
    const { rows } = await stack.db.query(
      `SELECT rec_model_version, rec_surface, rec_issued_at FROM interactions x JOIN users u ON u.id = x.user_id
       WHERE u.external_id = 'u6' AND x.type = 'clicked-through'`,
    );
    // popularity without a model: no version; the user's query is surface 0
    expect(rows).toHaveLength(1);
    expect(rows[0].rec_model_version).toBeNull();
    expect(rows[0].rec_surface).toBe(0);
    expect(Math.abs(new Date(rows[0].rec_issued_at).getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('IMPRESSION events recorded through the ingest path count as shown', async () => {
    expect((await gql(api, SET_TYPE, { input: { type: 'shown', role: 'IMPRESSION' } }, admin)).errors).toBeUndefined();
    const res = await gql(api, RECORD, {
      input: [
        { userId: 'u7', itemId: 'i3', type: 'shown' },
        { userId: 'u7', itemId: 'i3', type: 'shown', occurredAt: new Date(Date.now() - 1000).toISOString() },
        { userId: 'u7', itemId: 'i4', type: 'view' },
      ],
    });
    expect(res.data!.recordInteractions.accepted).toBe(3);
    expect(await storedAtLeast('u7', 'i3', 2)).toEqual(new Map([['i3', 2]]));
  });

  it('a clean stop writes the impressions still held', async () => {
    // a second API process that would not write for ten minutes on its own
    const other = await createTestApiApp({ IMPRESSIONS_FLUSH_MS: '600000' });
    try {
      const res = await gql(other, RECS, { u: 'u8', limit: 4 });
      const answer = res.data!.recommendations as { recommendationId: string; items: { item: { id: string } }[] };
      const ids = answer.items.map((i) => i.item.id);
      const reported = await gql(other, REPORT, { rid: answer.recommendationId, items: ids });
      expect(reported.data!.reportImpressions.accepted).toBe(4);
      expect(await storedShows('u8')).toEqual(new Map());
    } finally {
      await other.close();
      delete process.env.IMPRESSIONS_FLUSH_MS;
    }
    expect((await storedShows('u8')).size).toBe(4);
  });

  it('with the default policy, an item shown 3 times without engagement is absent from the 4th answer, on every query for the user, until a POSITIVE event', async () => {
    const user = 'u20';
    const answers: Answer[] = [];
    for (let round = 0; round < 3; round++) {
      const answer = await recs(user, 5, false);
      answers.push(answer);
      expect((await report(answer.recommendationId, [answer.ids[0]])).data!.reportImpressions.accepted).toBe(1);
    }
    const item = answers[0].ids[0];
    // the same item led each answer (popularity, nothing recorded between)
    expect(answers.map((a) => a.ids[0])).toEqual([item, item, item]);
    await storedAtLeast(user, item, 3);
    // the flush marks the user's feedback state for a fresh read
    for (let i = 0; i < 200 && (await stack.redis.hget(feedbackKey(user), 'stale')) === null; i++)
      await new Promise((r) => setTimeout(r, 50));

    const fourth = await recs(user, 5, false);
    expect(fourth.ids).not.toContain(item);
    expect(fourth.ids).toEqual([...answers[0].ids.slice(1), fourth.ids[4]]);
    // kept in the user's feedback state: the next answers read it from Redis
    const exp = JSON.parse((await stack.redis.hget(feedbackKey(user), 'exp'))!) as [string, number][];
    expect(exp.map(([id]) => id)).toEqual([item]);
    expect(exp[0][1]).toBeGreaterThan(Date.now() + 6.9 * 86_400_000);
    expect((await recs(user, 20, false)).ids).not.toContain(item);
    // the session and similar-items queries asked for the user leave it out too; for another user they keep it
    const forItems = `query S($items: [ID!]!, $u: ID) { recommendationsForItems(itemIds: $items, userId: $u, limit: 20) { items { item { id } } } }`;
    const similar = `query S($item: ID!, $u: ID) { similarItems(itemId: $item, userId: $u, limit: 20) { items { item { id } } } }`;
    const ids = (res: { items: { item: { id: string } }[] }) => res.items.map((i) => i.item.id);
    const sessionFor = async (u: string) =>
      ids((await gql(api, forItems, { items: ['unknown-item'], u })).data!.recommendationsForItems);
    const similarFor = async (u: string) =>
      ids((await gql(api, similar, { item: answers[0].ids[1], u })).data!.similarItems);
    expect(await sessionFor(user)).not.toContain(item);
    expect(await sessionFor('u21')).toContain(item);
    expect(await similarFor(user)).not.toContain(item);
    expect(await similarFor('u21')).toContain(item);

    // a POSITIVE event on it lifts it from the next answer on
    const res = await gql(api, RECORD, { input: [{ userId: user, itemId: item, type: 'view' }] });
    expect(res.data!.recordInteractions.accepted).toBe(1);
    expect((await recs(user, 5, false)).ids).toContain(item);
  });
});
