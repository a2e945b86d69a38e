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
  let index: ItemIndex;

  beforeAll(async () => {
    await initBackend();
    index = await ItemIndex.build(new DaeModel(fixture.config, fixture.params), { threads: 1, normRanges: 4 });
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
    expect(pruned.rangesSearched).toBeLessThan(every.rangesSearched);
    expect(every.rangesSearched).toBe(32 * index.ranges);
    pruned.rows.forEach((row, u) => {
      const want = every.rows[u]!;
      const got = rankListed(row!.items, row!.scores, k);
      expect(Array.from(got.items)).toEqual(Array.from(rankListed(want.items, want.scores, k).items));
    });
  });
});
