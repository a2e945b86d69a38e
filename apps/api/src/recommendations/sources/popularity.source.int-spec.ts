import { PopularitySource } from './popularity.source';
import { SessionSubject } from './session.source';
import { ItemSubject } from './similar-items.source';
import { fixtureAsk, fixtureCatalogue, fixtureStores, idsOf } from './sources.fixture';

describe(`${PopularitySource.name} (Postgres)`, () => {
  let stores: Awaited<ReturnType<typeof fixtureStores>>;
  const sut = new PopularitySource();
  // i0 the most popular, then i1, ...
  const catalogue = fixtureCatalogue({ i1: { active: false } });

  beforeAll(async () => {
    stores = await fixtureStores();
    await stores.record('u1', ['i0', 'i3']);
  });
  afterAll(() => stores.close());

  it('answers a user with the most interacted-with active items, by their counts, leaving out what the user has seen', async () => {
    const answer = await sut.answer(fixtureAsk(null, catalogue, await stores.users.of(null, 'u1', true), { limit: 3 }));
    expect(answer.source).toBe('POPULARITY');
    expect(answer.items.map((i) => [i.item.id, i.score])).toEqual([
      ['i2', 38],
      ['i4', 36],
      ['i5', 35],
    ]);
    // seen items kept, a stranger, and the request's filter and exclusions
    expect(
      idsOf(
        (await sut.answer(fixtureAsk(null, catalogue, await stores.users.of(null, 'u1', false), { limit: 3 }))).items,
      ),
    ).toEqual(['i0', 'i2', 'i3']);
    expect(
      idsOf(
        (await sut.answer(fixtureAsk(null, catalogue, await stores.users.of(null, 'stranger', true), { limit: 2 })))
          .items,
      ),
    ).toEqual(['i0', 'i2']);
    const options = { limit: 2, filter: { attributes: { even: true } }, exclude: ['i2'] };
    expect(
      idsOf((await sut.answer(fixtureAsk(null, catalogue, await stores.users.of(null, 'u1', true), options))).items),
    ).toEqual(['i4', 'i6']);
  });

  it("leaves a session's items and an item itself out of theirs", async () => {
    expect(
      idsOf((await sut.answer(fixtureAsk(null, catalogue, new SessionSubject(['i0', 'i2', 'x']), { limit: 2 }))).items),
    ).toEqual(['i3', 'i4']);
    expect(idsOf((await sut.answer(fixtureAsk(null, catalogue, new ItemSubject('i0'), { limit: 2 }))).items)).toEqual([
      'i2',
      'i3',
    ]);
  });
});
