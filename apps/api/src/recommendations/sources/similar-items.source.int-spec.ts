import { ItemSubject, SimilarItemsSource } from './similar-items.source';
import { fixtureAsk, idsOf, servedModelFixture } from './sources.fixture';

describe(`${SimilarItemsSource.name} (Redis)`, () => {
  const fx = servedModelFixture({ similarItems: 10 });

  /** Brute force: cosine of the item vectors with item `a`'s, in float64, every other item, full sort. */
  function cosines(a: number) {
    const { dim, vectors } = fx.live.model.itemEmbeddings();
    const of = (i: number) => vectors.subarray(i * dim, (i + 1) * dim);
    const cos = (i: number) =>
      of(a).reduce((dot, x, d) => dot + x * of(i)[d], 0) / (Math.hypot(...of(a)) * Math.hypot(...of(i)));
    return fx.live.itemIds
      .map((id, i) => ({ id, i, score: cos(i) }))
      .filter((x) => x.i !== a)
      .sort((x, y) => y.score - x.score);
  }
  const ask = (itemId: string, limit = 5, exclude: string[] = []) =>
    fx.ask(new ItemSubject(itemId), { limit, exclude });

  it('compares an item without a precomputed list with every other, and remembers the comparison', async () => {
    const sut = new SimilarItemsSource(fx.stores.store);
    const answer = (await sut.answer(ask('i7')))!;
    expect(answer.source).toBe('EMBEDDING');
    const want = cosines(7).slice(0, 5);
    expect(idsOf(answer.items)).toEqual(want.map((x) => x.id));
    answer.items.forEach((item, r) => expect(item.score).toBeCloseTo(want[r].score, 5));
    // a list published since is not read: the comparison is kept for the model's lifetime
    await fx.stores.store.writeVectors(fx.live.version, 'item', {
      ids: ['i7'],
      dim: 1,
      vectors: Float32Array.of(1),
      similar: [{ items: [39], scores: [1] }],
    });
    expect(idsOf((await sut.answer(ask('i7')))!.items)).toEqual(want.map((x) => x.id));
  });

  it("answers from the list the training precomputed into Redis, with the request's exclusions", async () => {
    // a list unlike the cosines: the answer follows it
    const list = { items: [30, 20, 10, 0], scores: [0.9, 0.8, 0.7, 0.6] };
    await fx.stores.store.writeVectors(fx.live.version, 'item', {
      ids: ['i3'],
      dim: 1,
      vectors: Float32Array.of(1),
      similar: [list],
    });
    const sut = new SimilarItemsSource(fx.stores.store);
    const answer = (await sut.answer(ask('i3', 3, ['i20'])))!;
    expect(answer.items.map((i) => [i.item.id, i.score])).toEqual([
      ['i30', Math.fround(0.9)],
      ['i10', Math.fround(0.7)],
      ['i0', Math.fround(0.6)],
    ]);
    // a list shorter than its depth holds every item: nothing more to find
    expect(idsOf((await sut.answer(ask('i3', 8)))!.items)).toEqual(['i30', 'i20', 'i10', 'i0']);
  });

  it('declines an item the model does not know, and any item without a model', async () => {
    const sut = new SimilarItemsSource(fx.stores.store);
    expect(await sut.answer(ask('new-item'))).toBeNull();
    expect(await sut.answer(fixtureAsk(null, fx.catalogue, new ItemSubject('i1')))).toBeNull();
  });
});
