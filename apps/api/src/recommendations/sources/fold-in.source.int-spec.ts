import { EnvVars } from '@app/config';
import { decodeItemIndices, decodeTopItems, decodeVector } from '@app/embedding-store';
import { rowsFromItemLists } from '@app/model';
import { LiveModel } from '../live-model.service';
import { FoldInSource } from './fold-in.source';
import {
  bruteForce,
  closeLiveModel,
  fixtureAsk,
  fixtureCatalogue,
  fixtureLiveModel,
  fixtureStores,
  idsOf,
  indicesIn,
} from './sources.fixture';
import { UserRanking } from './user-ranking';

describe(`${FoldInSource.name} (Redis, Postgres)`, () => {
  let live: LiveModel;
  let stores: Awaited<ReturnType<typeof fixtureStores>>;
  let sut: FoldInSource;
  const catalogue = fixtureCatalogue();
  const published = Float32Array.from([1, 1, -1, 0.5, 0, -0.25]);
  const historyIds = ['i4', 'i12', 'i17', 'i25'];

  beforeAll(async () => {
    [live, stores] = await Promise.all([
      fixtureLiveModel({ topItems: 10, watermark: new Date('2024-01-02T00:00:00Z') }),
      fixtureStores(),
    ]);
    sut = new FoldInSource(
      new UserRanking(Object.assign(new EnvVars(), { CACHED_TOP_ITEMS: 10 })),
      stores.store,
      stores.erasures,
    );
  });
  afterAll(async () => {
    await closeLiveModel(live);
    await stores.close();
  });

  const userKey = (userId: string) => `recoder:v${live.version}:user:${userId}`;
  const encoded = (ids: readonly string[]) =>
    live.model.encode(rowsFromItemLists(live.itemIds.length, [indicesIn(live, ids)]));
  /** The user's hash once the write-through (after the answer) has cleared the stale flag, or written a first vector. */
  async function writtenThrough(userId: string) {
    for (let i = 0; i < 50; i++) {
      const [vec, stale] = await stores.redis.hmgetBuffer(userKey(userId), 'vec', 'stale');
      if (vec && !stale) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [vec, top, seen, asOf] = await stores.redis.hmgetBuffer(userKey(userId), 'vec', 'top', 'seen', 'asOf');
    return {
      vector: vec && decodeVector(vec),
      top: top && decodeTopItems(top),
      seen: seen && decodeItemIndices(seen),
      asOf: asOf && Number(asOf.toString()),
    };
  }

  it('folds in the history of a user whose embedding went stale, answers from it, and writes it through', async () => {
    const newest = new Date('2024-03-01T00:00:00Z');
    await stores.publish(live.version, 'u1', published, indicesIn(live, historyIds.slice(0, 3)));
    await stores.record('u1', historyIds.slice(0, 3), new Date('2024-01-01T00:00:00Z'));
    await stores.record('u1', historyIds.slice(3), newest);
    await stores.store.markUsersStale(live.version, ['u1']);
    const answer = (await sut.answer(
      fixtureAsk(live, catalogue, await stores.users.of(live, 'u1', true), { limit: 6 }),
    ))!;
    expect(answer.source).toBe('FOLD_IN');
    const seen = indicesIn(live, historyIds);
    const want = bruteForce(live, encoded(historyIds), seen, seen);
    expect(idsOf(answer.items)).toEqual(want.slice(0, 6).map((x) => x.id));
    answer.items.forEach((item, r) => expect(item.score).toBeCloseTo(want[r].score, 5));
    const cached = await writtenThrough('u1');
    expect(Array.from(cached.vector!)).toEqual(Array.from(encoded(historyIds)));
    expect(cached.top!.items).toEqual(want.slice(0, 10).map((x) => live.itemIndex.get(x.id)));
    expect([...cached.seen!].sort((a, b) => a - b)).toEqual([...seen].sort((a, b) => a - b));
    expect(cached.asOf).toBe(newest.getTime());
  });

  it('folds in a user the model has no embedding of, keeping their items in when asked', async () => {
    await stores.record('u2', historyIds);
    const answer = (await sut.answer(
      fixtureAsk(live, catalogue, await stores.users.of(live, 'u2', false), { limit: 8 }),
    ))!;
    expect(answer.source).toBe('FOLD_IN');
    expect(idsOf(answer.items)).toEqual(
      bruteForce(live, encoded(historyIds), indicesIn(live, historyIds))
        .slice(0, 8)
        .map((x) => x.id),
    );
    expect((await writtenThrough('u2')).vector).not.toBeNull();
  });

  it('declines a current embedding, a history of items the model does not know, and no model', async () => {
    await stores.record('u3', historyIds.slice(0, 2), new Date('2024-01-01T00:00:00Z'));
    await stores.publish(live.version, 'u3', published, indicesIn(live, historyIds.slice(0, 2)));
    expect(await sut.answer(fixtureAsk(live, catalogue, await stores.users.of(live, 'u3', true)))).toBeNull();
    await stores.db.query(`INSERT INTO items (external_id) VALUES ('new-item')`);
    await stores.record('u4', ['new-item']);
    expect(await sut.answer(fixtureAsk(live, catalogue, await stores.users.of(live, 'u4', true)))).toBeNull();
    expect(await sut.answer(fixtureAsk(null, catalogue, await stores.users.of(null, 'u2', true)))).toBeNull();
  });
});
