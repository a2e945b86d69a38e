import { initBackend } from '../backend';
import { DaeModel } from '../dae.model';
import { rankListed } from '../score';
import { ItemIndex } from './item-index';
import { prunedCandidatesFromIndex } from './pruned-candidates';
import { structuredModel } from './structured-model.fixture';

describe(prunedCandidatesFromIndex.name, () => {
  const items = 20_000;
  const width = 32;
  const k = 100;
  const fixture = structuredModel(items, width, 11);
  const users = fixture.users(32);
  const [w, b] = [fixture.params.weights[1], fixture.params.biases[1]];
  // three items in four far shorter than the rest, whose biases are high (a long tail the popular
  // items dwarf): the bound of the tail's norm ranges falls below every row's k-th best, so
  // those ranges need no search
  for (let i = 0; i < items; i++)
    if (i % 4 === 0) b[i] += 8;
    else {
      b[i] *= 0.02;
      for (let h = 0; h < width; h++) w[h * items + i] *= 0.02;
    }
  let index: ItemIndex;

  beforeAll(async () => {
    await initBackend();
    index = await ItemIndex.build(new DaeModel(fixture.config, fixture.params), {
      threads: 1,
      normRanges: 4,
      search: 'graphs',
    });
  });

  // h·W_i + b_i in float64: the bound holds for any exact scorer
  const score = (lists: Uint32Array[]) =>
    lists.map((list, r) =>
      Float32Array.from(list, (i) => {
        let acc = b[i];
        for (let h = 0; h < width; h++) acc += w[h * items + i] * users[r * width + h];
        return acc;
      }),
    );
  const candidates = (prune: boolean, exclude: (u: number) => number[] = () => []) =>
    prunedCandidatesFromIndex(
      index,
      users,
      Array.from({ length: 32 }, (_, u) => ({ k, exclude: exclude(u) })),
      Array.from({ length: 32 }, () => null),
      items,
      score,
      prune,
    );

  it('returns the same top k as searching every norm range, having skipped ranges the bound rules out', () => {
    const every = candidates(false);
    const pruned = candidates(true);
    // each row searched the top range alone, or little more
    expect(pruned.rangesSearched).toBeLessThanOrEqual(every.rangesSearched / 2);
    expect(every.rangesSearched).toBe(32 * index.ranges);
    pruned.rows.forEach((row, u) => {
      const want = every.rows[u]!;
      const got = rankListed(row!.items, row!.scores, k);
      expect(Array.from(got.items)).toEqual(Array.from(rankListed(want.items, want.scores, k).items));
    });
  });

  it('keeps exclusions out, searching deeper for them, and still prunes', () => {
    const top = candidates(false).rows.map((row) => Array.from(rankListed(row!.items, row!.scores, 3 * k).items));
    const exclude = (u: number) => top[u].slice(0, 2 * k);
    const every = candidates(false, exclude);
    const pruned = candidates(true, exclude);
    expect(pruned.rangesSearched).toBeLessThan(every.rangesSearched);
    pruned.rows.forEach((row, u) => {
      const got = Array.from(rankListed(row!.items, row!.scores, k).items);
      expect(got).toHaveLength(k);
      expect(got.filter((i) => exclude(u).includes(i))).toEqual([]);
      const want = every.rows[u]!;
      expect(got).toEqual(Array.from(rankListed(want.items, want.scores, k).items));
    });
  });
});
