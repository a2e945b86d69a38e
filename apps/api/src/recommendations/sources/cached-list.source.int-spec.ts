import { LiveModel } from '../live-model.service';
import { CachedListSource } from './cached-list.source';
import {
  bruteForce,
  closeLiveModel,
  fixtureAsk,
  fixtureCatalogue,
  fixtureLiveModel,
  fixtureStores,
  idsOf,
  indicesIn,
  topOf,
} from './sources.fixture';

describe(`${CachedListSource.name} (Redis)`, () => {
  let live: LiveModel;
  let stores: Awaited<ReturnType<typeof fixtureStores>>;
  const sut = new CachedListSource();
  const catalogue = fixtureCatalogue();
  const vector = Float32Array.from([0.5, -1, 0.25, 1, -0.5, 0.75]);
  let seenIds: string[];

  beforeAll(async () => {
    [live, stores] = await Promise.all([fixtureLiveModel({ topItems: 10 }), fixtureStores()]);
    // among them the vector's best item, as an autoencoder's own items are
    const ranked = bruteForce(live, vector, null);
    seenIds = [ranked[0].id, ranked[5].id, ranked[20].id];
  });
  afterAll(async () => {
    await closeLiveModel(live);
    await stores.close();
  });

  /** A user published with the version's depth of unseen items ranked (10); what their embedding ranks, seen items left out. */
  async function published(userId: string, depth = 10) {
    const seen = indicesIn(live, seenIds);
    const unseen = bruteForce(live, vector, seen, seen);
    await stores.publish(live.version, userId, vector, seen, topOf(live, unseen, depth));
    return { seen, unseen };
  }
  const ask = async (userId: string, excludeSeen: boolean, options: Parameters<typeof fixtureAsk>[3] = {}) =>
    fixtureAsk(live, catalogue, await stores.users.of(live, userId, excludeSeen), options);

  it('answers from the published list, with its scores, without reading the history', async () => {
    const { unseen } = await published('u1');
    const history = jest.spyOn(stores.interactions, 'eventGroupsOf');
    const answer = (await sut.answer(await ask('u1', true, { limit: 4, exclude: [unseen[1].id] })))!;
    expect(answer.source).toBe('EMBEDDING');
    const want = unseen.filter((x) => x.id !== unseen[1].id).slice(0, 4);
    expect(idsOf(answer.items)).toEqual(want.map((x) => x.id));
    answer.items.forEach((item, r) => expect(item.score).toBeCloseTo(want[r].score, 5));
    expect(history).not.toHaveBeenCalled();
    history.mockRestore();
  });

  it('declines what the list cannot answer: more than it holds pass the exclusions, a stale embedding, none at all', async () => {
    const { unseen } = await published('u2');
    const exclude = unseen.slice(0, 3).map((x) => x.id);
    expect(await sut.answer(await ask('u2', true, { limit: 8, exclude }))).toBeNull();
    // a list shorter than the depth it was ranked to holds every unseen item: a short answer is the whole answer
    await published('u3', 9);
    expect(idsOf((await sut.answer(await ask('u3', true, { limit: 8, exclude })))!.items)).toEqual(
      unseen.slice(3, 9).map((x) => x.id),
    );
    await stores.store.markUsersStale(live.version, ['u2']);
    expect(await sut.answer(await ask('u2', true))).toBeNull();
    expect(await sut.answer(await ask('nobody', true))).toBeNull();
    // the depth unknown (the API loaded the version while Redis was down): a short list may have been cut
    const unknownDepth = { ...live, topItems: null };
    expect(
      await sut.answer(
        fixtureAsk(unknownDepth, catalogue, await stores.users.of(unknownDepth, 'u3', true), { limit: 8, exclude }),
      ),
    ).toBeNull();
    expect(
      idsOf(
        (await sut.answer(
          fixtureAsk(unknownDepth, catalogue, await stores.users.of(unknownDepth, 'u3', true), { limit: 6, exclude }),
        ))!.items,
      ),
    ).toHaveLength(6);
    expect(await sut.answer(fixtureAsk(null, catalogue, await stores.users.of(null, 'u3', true)))).toBeNull();
  });

  it("keeps seen items in when asked, by their scores (the item term's from the same history) merged into the list", async () => {
    const { seen } = await published('u4');
    const all = bruteForce(live, vector, seen);
    const answer = (await sut.answer(await ask('u4', false, { limit: 8 })))!;
    expect(idsOf(answer.items)).toEqual(all.slice(0, 8).map((x) => x.id));
    answer.items.forEach((item, r) => expect(item.score).toBeCloseTo(all[r].score, 5));
    expect(answer.items.some((i) => seenIds.includes(i.item.id))).toBe(true);
    // a filter that may let only a few through, or a list of unknown depth: the decode's to answer
    expect(await sut.answer(await ask('u4', false, { filter: { includeIds: ['i1'] } }))).toBeNull();
    const unknownDepth = { ...live, topItems: null };
    expect(
      await sut.answer(fixtureAsk(unknownDepth, catalogue, await stores.users.of(unknownDepth, 'u4', false))),
    ).toBeNull();
  });
});
