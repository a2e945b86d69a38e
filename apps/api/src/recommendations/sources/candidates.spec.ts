import { CatalogueItem } from '@app/database';
import { Catalogue } from '../catalogue.service';
import { SLICE } from '../in-slices';
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

  it('answers a large catalogue the same while its items are aligned with the model in the background and after', async () => {
    // more items than two slices, the model's order the catalogue's reversed; one inactive item in each slice
    const n = 2 * SLICE + 500;
    const all: CatalogueItem[] = Array.from({ length: n }, (_, k) => ({
      id: `x${k}`,
      attributes: {},
      active: k % SLICE !== 7,
      interactions: n - k,
    }));
    const itemIds = all.map((item) => item.id).reverse();
    const large = { itemIds, itemIndex: new Map(itemIds.map((id, i) => [id, i])) } as unknown as LiveModel;
    const catalogue: Catalogue = {
      byId: new Map(all.map((item) => [item.id, item])),
      popular: all.filter((item) => item.active),
      loadedAt: 0,
      fingerprint: null,
      checkedAt: 0,
    };
    // model items at the end of each slice, and those whose catalogue entry is inactive
    const ranked = [n - 1 - 7, 5, n - 1 - (SLICE + 7), SLICE + 3, n - 1 - (2 * SLICE + 7), 2 * SLICE + 400, 0];
    const top = { items: Uint32Array.from(ranked), scores: Float32Array.from(ranked, (_, r) => 10 - r) };
    const answer = () => idsOf(sut.of(large, catalogue, undefined).fromList(top, ranked.length, 4)!);
    const expected = [5, SLICE + 3, 2 * SLICE + 400, 0].map((i) => itemIds[i]);
    expect(answer()).toEqual(expected);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answer()).toEqual(expected);
    const row = Float32Array.from({ length: n }, (_, i) => (ranked.includes(i) ? 10 - ranked.indexOf(i) : -1));
    expect(idsOf(sut.of(large, catalogue, undefined).rank(row, 4, []))).toEqual(expected);
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
