import { rowsFromItemLists } from '@app/model';
import { LiveModel } from '../live-model.service';
import { SessionSource, SessionSubject } from './session.source';
import { closeLiveModel, fixtureAsk, fixtureCatalogue, fixtureLiveModel, idsOf, indicesIn } from './sources.fixture';

describe(SessionSource.name, () => {
  let live: LiveModel;
  const sut = new SessionSource();
  const session = ['i6', 'i13', 'no-such-item', 'i31'];

  beforeAll(async () => {
    live = await fixtureLiveModel();
  });
  afterAll(() => closeLiveModel(live));

  /** Brute force: the session's known items encoded and decoded (the item term's from them), full sort, themselves left out. */
  const reference = (keep: (id: string) => boolean = () => true) => {
    const known = indicesIn(
      live,
      session.filter((id) => live.itemIndex.has(id)),
    );
    const scores = live.model.scores(rowsFromItemLists(live.itemIds.length, [known]));
    return live.itemIds
      .map((id, i) => ({ id, score: scores[i] }))
      .filter((x, i) => !known.includes(i) && keep(x.id))
      .sort((a, b) => b.score - a.score);
  };

  it('folds the known items of a session in and ranks every other item, unknown ids ignored', async () => {
    const answer = (await sut.answer(fixtureAsk(live, fixtureCatalogue(), new SessionSubject(session), { limit: 7 })))!;
    expect(answer.source).toBe('FOLD_IN');
    const want = reference().slice(0, 7);
    expect(idsOf(answer.items)).toEqual(want.map((x) => x.id));
    answer.items.forEach((item, r) => expect(item.score).toBeCloseTo(want[r].score, 5));
  });

  it('holds a narrowing filter, exclusions and inactive items over the full row', async () => {
    const best = reference()[0].id;
    const catalogue = fixtureCatalogue({ [best]: { active: false } });
    const options = { limit: 4, filter: { attributes: { even: true } }, exclude: [reference()[1].id] };
    const answer = (await sut.answer(fixtureAsk(live, catalogue, new SessionSubject(session), options)))!;
    const even = (id: string) => Number(id.slice(1)) % 2 === 0 && id !== best && id !== options.exclude[0];
    expect(idsOf(answer.items)).toEqual(
      reference(even)
        .slice(0, 4)
        .map((x) => x.id),
    );
  });

  it('declines a session of unknown items, and any session without a model', async () => {
    expect(await sut.answer(fixtureAsk(live, fixtureCatalogue(), new SessionSubject(['x', 'y'])))).toBeNull();
    expect(await sut.answer(fixtureAsk(null, fixtureCatalogue(), new SessionSubject(session)))).toBeNull();
    expect(await new SessionSubject(session).excludedIds()).toEqual(session);
  });
});
