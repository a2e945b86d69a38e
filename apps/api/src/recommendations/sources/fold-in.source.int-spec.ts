import { EnvVars } from '@app/config';
import { decodeItemIndices, decodeTopItems, decodeVector, userKey } from '@app/embedding-store';
import { rowsFromItemLists } from '@app/model';
import { FoldInSource } from './fold-in.source';
import { idsOf, servedModelFixture } from './sources.fixture';
import { UserRanking } from './user-ranking';

describe(`${FoldInSource.name} (Redis, Postgres)`, () => {
  const fx = servedModelFixture({ topItems: 10, watermark: new Date('2024-01-02T00:00:00Z') });
  let sut: FoldInSource;
  const published = Float32Array.from([1, 1, -1, 0.5, 0, -0.25]);
  const historyIds = ['i4', 'i12', 'i17', 'i25'];

  beforeAll(() => {
    sut = new FoldInSource(
      new UserRanking(Object.assign(new EnvVars(), { CACHED_TOP_ITEMS: 10 })),
      fx.stores.store,
      fx.stores.erasures,
    );
  });

  const liveUserKey = (userId: string) => userKey(fx.live.version, userId);
  const encoded = (ids: readonly string[]) =>
    fx.live.model.encode(rowsFromItemLists(fx.live.itemIds.length, [fx.indicesIn(ids)]));
  /** The user's hash once the write-through (after the answer) has cleared the stale flag, or written a first vector. */
  async function writtenThrough(userId: string) {
    for (let i = 0; i < 50; i++) {
      const [vec, stale] = await fx.stores.redis.hmgetBuffer(liveUserKey(userId), 'vec', 'stale');
      if (vec && !stale) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [vec, top, seen, asOf] = await fx.stores.redis.hmgetBuffer(liveUserKey(userId), 'vec', 'top', 'seen', 'asOf');
    return {
      vector: vec && decodeVector(vec),
      top: top && decodeTopItems(top),
      seen: seen && decodeItemIndices(seen),
      asOf: asOf && Number(asOf.toString()),
    };
  }

  it('folds in the history of a user whose embedding went stale, answers from it, and writes it through', async () => {
    const newest = new Date('2024-03-01T00:00:00Z');
    await fx.stores.publish(fx.live.version, 'u1', published, fx.indicesIn(historyIds.slice(0, 3)));
    await fx.stores.record('u1', historyIds.slice(0, 3), new Date('2024-01-01T00:00:00Z'));
    await fx.stores.record('u1', historyIds.slice(3), newest);
    await fx.stores.store.markUsersStale(fx.live.version, ['u1']);
    const answer = (await sut.answer(await fx.askForUser('u1', true, { limit: 6 })))!;
    expect(answer.source).toBe('FOLD_IN');
    const seen = fx.indicesIn(historyIds);
    const want = fx.bruteForce(encoded(historyIds), seen, seen);
    expect(idsOf(answer.items)).toEqual(want.slice(0, 6).map((x) => x.id));
    answer.items.forEach((item, r) => expect(item.score).toBeCloseTo(want[r].score, 5));
    const cached = await writtenThrough('u1');
    expect(Array.from(cached.vector!)).toEqual(Array.from(encoded(historyIds)));
    expect(cached.top!.items).toEqual(want.slice(0, 10).map((x) => fx.live.itemIndex.get(x.id)));
    expect([...cached.seen!].sort((a, b) => a - b)).toEqual([...seen].sort((a, b) => a - b));
    expect(cached.asOf).toBe(newest.getTime());
  });

  it('folds in a user the model has no embedding of, keeping their items in when asked', async () => {
    await fx.stores.record('u2', historyIds);
    const answer = (await sut.answer(await fx.askForUser('u2', false, { limit: 8 })))!;
    expect(answer.source).toBe('FOLD_IN');
    expect(idsOf(answer.items)).toEqual(
      fx
        .bruteForce(encoded(historyIds), fx.indicesIn(historyIds))
        .slice(0, 8)
        .map((x) => x.id),
    );
    expect((await writtenThrough('u2')).vector).not.toBeNull();
  });

  it('declines a current embedding, a history of items the model does not know, and no model', async () => {
    await fx.stores.record('u3', historyIds.slice(0, 2), new Date('2024-01-01T00:00:00Z'));
    await fx.stores.publish(fx.live.version, 'u3', published, fx.indicesIn(historyIds.slice(0, 2)));
    expect(await sut.answer(await fx.askForUser('u3', true))).toBeNull();
    await fx.stores.db.query(`INSERT INTO items (external_id) VALUES ('new-item')`);
    await fx.stores.record('u4', ['new-item']);
    expect(await sut.answer(await fx.askForUser('u4', true))).toBeNull();
    expect(await sut.answer(await fx.askForUser('u2', true, {}, null))).toBeNull();
  });
});
