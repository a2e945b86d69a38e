import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, ModelBackend } from '../backend';
import { DaeModel } from '../dae.model';
import { RankedItems, Ranking } from '../score';
import { ItemIndex } from './item-index';
import { structuredModel } from './structured-model.fixture';

// clusters: on wasm a quantised pass over the probed clusters, elsewhere every probed item scored exactly
describe.each([
  { search: 'graphs', backend: 'wasm' },
  { search: 'clusters', backend: 'wasm' },
  { search: 'clusters', backend: 'cpu' },
] as const)(
  `${ItemIndex.name} over $search on $backend`,
  ({ search, backend }: { search: 'graphs' | 'clusters'; backend: ModelBackend }) => {
    const items = 20_000;
    const width = 32;
    const k = 100;
    const fixture = structuredModel(items, width, 7);
    const users = fixture.users(100);
    let exact: DaeModel;
    let indexed: DaeModel;
    let index: ItemIndex;
    let dir: string;

    beforeAll(async () => {
      await initBackend(backend);
      exact = new DaeModel(fixture.config, fixture.params);
      // several norm ranges, as a large catalogue gets them (graphs)
      index = await ItemIndex.build(exact, { threads: 1, normRanges: 3, search });
      indexed = exact.withIndex(index);
      dir = mkdtempSync(join(tmpdir(), 'item-index-'));
    });
    afterAll(() => {
      exact.dispose();
      indexed.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    const recall = (got: RankedItems[], want: RankedItems[]) => {
      let hits = 0;
      let of = 0;
      want.forEach((w, r) => {
        const found = new Set(got[r].items);
        w.items.forEach((i) => (hits += found.has(i) ? 1 : 0));
        of += w.items.length;
      });
      return hits / of;
    };
    const rankings = (n: number, exclude: (u: number) => number[] = () => []): Ranking[] =>
      Array.from({ length: n }, (_, u) => ({ k, exclude: exclude(u) }));

    it('finds at least 95% of the exact top 100 of each user, with the scores a decode gives them', () => {
      const want = exact.rank({ embeddings: users }, rankings(100));
      const got = indexed.rank({ embeddings: users }, rankings(100));
      expect(recall(got, want)).toBeGreaterThanOrEqual(0.95);
      got.forEach((row, u) => {
        expect(row.items).toHaveLength(k);
        const decoded = exact.scoresOf(users.subarray(u * width, (u + 1) * width), [Array.from(row.items)])[0];
        // the same bits as the model's own scores of those items
        expect(Array.from(row.scores)).toEqual(Array.from(decoded));
        // best first
        for (let n = 1; n < k; n++) expect(row.scores[n]).toBeLessThanOrEqual(row.scores[n - 1]);
      });
    });

    it('leaves out each row its excluded items and still returns k', () => {
      const first = indexed.rank({ embeddings: users }, rankings(20));
      // each row's own best 30 excluded: the next ones take their places
      const exclude = (u: number) => Array.from(first[u].items.subarray(0, 30));
      const got = indexed.rank({ embeddings: users.subarray(0, 20 * width) }, rankings(20, exclude));
      const want = exact.rank({ embeddings: users.subarray(0, 20 * width) }, rankings(20, exclude));
      got.forEach((row, u) => {
        expect(row.items).toHaveLength(k);
        const excluded = new Set(exclude(u));
        expect(Array.from(row.items).filter((i) => excluded.has(i))).toEqual([]);
      });
      expect(recall(got, want)).toBeGreaterThanOrEqual(0.95);
    });

    it('ranks a row exactly when its exclusions would eat more candidates than the index should give', () => {
      // 3,000 exclusions: past an eighth of the catalogue, the row is scored whole
      const exclude = () =>
        Array.from(exact.rank({ embeddings: users.subarray(0, width) }, rankings(1))[0].items).concat(
          Array.from({ length: 2_900 }, (_, i) => i * 6),
        );
      const got = indexed.rank({ embeddings: users.subarray(0, width) }, rankings(1, exclude));
      const want = exact.rank({ embeddings: users.subarray(0, width) }, rankings(1, exclude));
      expect(Array.from(got[0].items)).toEqual(Array.from(want[0].items));
      expect(Array.from(got[0].scores)).toEqual(Array.from(want[0].scores));
    });

    it("finds at least 95% of each item's 100 most similar items, with their exact cosines", () => {
      const queries = Array.from({ length: 50 }, (_, n) => n * 397);
      const want = exact.rankSimilar(queries, rankings(50));
      const got = indexed.rankSimilar(queries, rankings(50));
      expect(recall(got, want)).toBeGreaterThanOrEqual(0.95);
      // an item found by both: the same cosine to the bit
      got.forEach((row, r) => {
        const exactOf = new Map(Array.from(want[r].items, (i, n) => [i, want[r].scores[n]]));
        // the same bits on wasm, where both sum as the listed kernel does; on cpu the exact path's are tf's own product
        row.items.forEach(
          (i, n) =>
            exactOf.has(i) &&
            (backend === 'wasm'
              ? expect(row.scores[n]).toBe(exactOf.get(i))
              : expect(row.scores[n]).toBeCloseTo(exactOf.get(i)!, 6)),
        );
      });
    });

    it('ranks the same after a save and a view of its files', () => {
      const names = index.save(dir);
      expect(names.sort()).toEqual(
        search === 'graphs'
          ? ['cosines.usearch', 'item-index.json', 'scores-0.usearch', 'scores-1.usearch', 'scores-2.usearch']
          : ['cosine-clusters.bin', 'item-index.json', 'score-clusters.bin'],
      );
      const viewed = ItemIndex.view(dir);
      expect(viewed.items).toBe(items);
      const model = exact.withIndex(viewed);
      try {
        const input = { embeddings: users.subarray(0, 20 * width) };
        const a = indexed.rank(input, rankings(20));
        const b = model.rank(input, rankings(20));
        expect(recall(b, a)).toBeGreaterThanOrEqual(0.99);
      } finally {
        model.dispose();
      }
      if (search === 'graphs') return;
      // similar items probe their own number of cosine clusters: one cluster finds less than the default
      const queries = Array.from({ length: 20 }, (_, n) => n * 397);
      const want = exact.rankSimilar(queries, rankings(20));
      const narrow = exact.withIndex(ItemIndex.view(dir, { similarProbes: 1 }));
      try {
        expect(narrow.index!.similarProbes).toBe(1);
        expect(viewed.similarProbes).toBeGreaterThan(1);
        expect(recall(narrow.rankSimilar(queries, rankings(20)), want)).toBeLessThan(
          recall(indexed.rankSimilar(queries, rankings(20)), want),
        );
      } finally {
        narrow.dispose();
      }
      // files of another width are refused, not misread
      const meta = JSON.parse(readFileSync(join(dir, 'item-index.json'), 'utf8')) as { width: number };
      writeFileSync(join(dir, 'item-index.json'), JSON.stringify({ ...meta, width: width - 1 }));
      expect(() => ItemIndex.view(dir)).toThrow(/not a file of item clusters of width 31/);
    });
  },
);
