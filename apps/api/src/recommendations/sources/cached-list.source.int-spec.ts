import { CachedListSource } from './cached-list.source';
import { idsOf, servedModelFixture } from './sources.fixture';

describe(`${CachedListSource.name} (Redis)`, () => {
  const fx = servedModelFixture({ topItems: 10 });
  const sut = new CachedListSource();
  const vector = Float32Array.from([0.5, -1, 0.25, 1, -0.5, 0.75]);
  let seenIds: string[];

  beforeAll(() => {
    // among them the vector's best item, as an autoencoder's own items are
    const ranked = fx.bruteForce(vector, null);
    seenIds = [ranked[0].id, ranked[5].id, ranked[20].id];
  });

  /** A user published with the version's depth of unseen items ranked (10); what their embedding ranks, seen items left out. */
  async function published(userId: string, depth = 10) {
    const seen = fx.indicesIn(seenIds);
    const unseen = fx.bruteForce(vector, seen, seen);
    await fx.stores.publish(fx.live.version, userId, vector, seen, fx.topOf(unseen, depth));
    return { seen, unseen };
  }

  it('answers from the published list, with its scores, without reading the history', async () => {
    const { unseen } = await published('u1');
    const history = jest.spyOn(fx.stores.interactions, 'seenItemsOf');
    const answer = (await sut.answer(await fx.askForUser('u1', true, { limit: 4, exclude: [unseen[1].id] })))!;
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
    expect(await sut.answer(await fx.askForUser('u2', true, { limit: 8, exclude }))).toBeNull();
    // a list shorter than the depth it was ranked to holds every unseen item: a short answer is the whole answer
    await published('u3', 9);
    expect(idsOf((await sut.answer(await fx.askForUser('u3', true, { limit: 8, exclude })))!.items)).toEqual(
      unseen.slice(3, 9).map((x) => x.id),
    );
    await fx.stores.store.markUsersStale(fx.live.version, ['u2']);
    expect(await sut.answer(await fx.askForUser('u2', true))).toBeNull();
    expect(await sut.answer(await fx.askForUser('nobody', true))).toBeNull();
    // the depth unknown (the API loaded the version while Redis was down): a short list may have been cut
    const unknownDepth = { ...fx.live, topItems: null };
    expect(await sut.answer(await fx.askForUser('u3', true, { limit: 8, exclude }, unknownDepth))).toBeNull();
    expect(
      idsOf((await sut.answer(await fx.askForUser('u3', true, { limit: 6, exclude }, unknownDepth)))!.items),
    ).toHaveLength(6);
    expect(await sut.answer(await fx.askForUser('u3', true, {}, null))).toBeNull();
  });

  it("keeps seen items in when asked, by their scores (the item term's from the same history) merged into the list", async () => {
    const { seen } = await published('u4');
    const all = fx.bruteForce(vector, seen);
    const answer = (await sut.answer(await fx.askForUser('u4', false, { limit: 8 })))!;
    expect(idsOf(answer.items)).toEqual(all.slice(0, 8).map((x) => x.id));
    answer.items.forEach((item, r) => expect(item.score).toBeCloseTo(all[r].score, 5));
    expect(answer.items.some((i) => seenIds.includes(i.item.id))).toBe(true);
    // a filter that may let only a few through, or a list of unknown depth: the decode's to answer
    expect(await sut.answer(await fx.askForUser('u4', false, { filter: { includeIds: ['i1'] } }))).toBeNull();
    const unknownDepth = { ...fx.live, topItems: null };
    expect(await sut.answer(await fx.askForUser('u4', false, {}, unknownDepth))).toBeNull();
  });
});
