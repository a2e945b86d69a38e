import { LiveModel } from '../live-model.service';
import { CandidateRules } from './candidates';
import { closeLiveModel, fixtureCatalogue, fixtureLiveModel, idsOf } from './sources.fixture';

describe(CandidateRules.name, () => {
  let live: LiveModel;
  const sut = new CandidateRules();
  // i0 scores best, then i1, ...: a list and a row ranked the same way
  const list = (n: number) => ({
    items: Uint32Array.from({ length: n }, (_, r) => r),
    scores: Float32Array.from({ length: n }, (_, r) => 100 - r),
  });
  const row = Float32Array.from({ length: 40 }, (_, i) => 100 - i);

  beforeAll(async () => {
    live = await fixtureLiveModel();
  });
  afterAll(() => closeLiveModel(live));

  it("takes a ranked list's first items that pass: never an inactive one, the filter's and the request's exclusions left out", () => {
    const catalogue = fixtureCatalogue({ i1: { active: false } });
    const candidates = sut.of(live, catalogue, { excludeIds: ['i2'] }, ['i4']);
    expect(candidates.narrows).toBe(false);
    const items = candidates.fromList(list(10), 10, 4)!;
    expect(idsOf(items)).toEqual(['i0', 'i3', 'i5', 'i6']);
    expect(items.map((i) => i.score)).toEqual([100, 97, 95, 94]);
    expect(items[0].item.attributes).toEqual({ even: true });
  });

  it('says a list ranked to its depth ran out (null), and answers short from a list shorter than its depth (every candidate)', () => {
    const candidates = sut.of(live, fixtureCatalogue(), { attributes: { even: true } });
    expect(candidates.narrows).toBe(true);
    // 10 ranked of more: 5 pass, and an eleventh could have passed too
    expect(candidates.fromList(list(10), 10, 6)).toBeNull();
    expect(idsOf(candidates.fromList(list(10), 11, 6)!)).toEqual(['i0', 'i2', 'i4', 'i6', 'i8']);
  });

  it('ranks a full row over what may be answered: inactive, unknown, filtered and excluded items masked', () => {
    const catalogue = fixtureCatalogue({ i0: { active: false } });
    // i39 is not in the catalogue at all
    const partial = { ...catalogue, byId: new Map([...catalogue.byId].filter(([id]) => id !== 'i39')) };
    const reversed = Float32Array.from(row).reverse();
    const candidates = sut.of(
      live,
      partial,
      { includeIds: ['i0', 'i1', 'i2', 'i3', 'i5', 'i38', 'i39'], excludeIds: ['i5'] },
      ['i38'],
    );
    expect(idsOf(candidates.rank(row, 10, [2]))).toEqual(['i1', 'i3']);
    expect(idsOf(sut.of(live, partial, undefined).rank(reversed, 3, [38]))).toEqual(['i37', 'i36', 'i35']);
    expect(
      sut
        .of(live, partial, undefined)
        .rank(row, 2, [])
        .map((i) => i.score),
    ).toEqual([99, 98]);
  });

  it("lists popular items by count, the subject's and the request's exclusions and the filter applied", () => {
    const catalogue = fixtureCatalogue({ i1: { active: false }, i7: { interactions: 1000 } });
    expect(idsOf(sut.of(null, catalogue, undefined).popular(3, []))).toEqual(['i7', 'i0', 'i2']);
    const items = sut.of(null, catalogue, { attributes: { even: false } }, ['i3']).popular(3, ['i5']);
    expect(items.map((i) => [i.item.id, i.score])).toEqual([
      ['i7', 1000],
      ['i9', 31],
      ['i11', 29],
    ]);
    expect(idsOf(sut.of(null, catalogue, { includeIds: ['i30', 'i1', 'i2'] }).popular(5, []))).toEqual(['i2', 'i30']);
  });

  it('aligns the catalogue with the model once per (model, catalogue) pair: a new catalogue is read again', () => {
    const first = fixtureCatalogue();
    expect(idsOf(sut.of(live, first, undefined).fromList(list(3), 3, 1)!)).toEqual(['i0']);
    expect(
      idsOf(sut.of(live, fixtureCatalogue({ i0: { active: false } }), undefined).fromList(list(3), 3, 1)!),
    ).toEqual(['i1']);
    expect(() => sut.of(null, first, undefined).fromList(list(3), 3, 1)).toThrow(/needs a model/);
  });
});
