import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, ModelBackend } from '../backend';
import { DaeModel } from '../dae.model';
import { RankedItems, Ranking } from '../score';
import { ItemClusters } from './item-clusters';
import { ItemIndex } from './item-index';
import { structuredModel } from './structured-model.fixture';

const recall = (got: RankedItems[], want: RankedItems[]) => {
  let [hits, of] = [0, 0];
  want.forEach((w, r) => {
    const found = new Set(got[r].items);
    w.items.forEach((i) => (hits += found.has(i) ? 1 : 0));
    of += w.items.length;
  });
  return hits / of;
};

describe(ItemClusters.name, () => {
  const fixture = structuredModel(5_000, 16, 3);
  const model = new DaeModel(fixture.config, fixture.params);
  afterAll(() => model.dispose());

  it.each(['scores', 'cosines'] as const)(
    'puts every item in exactly one cluster, ascending within it (%s)',
    async (kind) => {
      await initBackend('cpu');
      const clusters = ItemClusters.build(kind, model.outputLayerParams(), { clusters: 40 });
      expect(clusters.clusters).toBe(40);
      expect(Array.from(clusters.members).sort((a, b) => a - b)).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
      for (let c = 0; c < 40; c++) {
        const own = clusters.membersOf([c]);
        for (let n = 1; n < own.length; n++) expect(own[n]).toBeGreaterThan(own[n - 1]);
        own.forEach((i) => expect(clusters.clusterOf(i)).toBe(c));
      }
    },
  );

  it("probes each row's clusters best centroid first, as [h, 1] · centroid orders them", async () => {
    await initBackend('cpu');
    const clusters = ItemClusters.build('scores', model.outputLayerParams(), { clusters: 40 });
    const rows = fixture.users(5);
    const probed = clusters.probe(rows, 5, 6);
    probed.forEach((chosen, r) => {
      const score = (c: number) => {
        let sum = clusters.centroids[c * 17 + 16];
        for (let h = 0; h < 16; h++) sum += rows[r * 16 + h] * clusters.centroids[c * 17 + h];
        return sum;
      };
      const want = Array.from({ length: 40 }, (_, c) => c)
        .sort((a, b) => score(b) - score(a))
        .slice(0, 6);
      expect(Array.from(chosen)).toEqual(want);
    });
  });
});

// the quantised pass over probed clusters runs on wasm; elsewhere every probed item is scored exactly
describe.each(['cpu', 'wasm'] as ModelBackend[])(`${ItemIndex.name} over item clusters on %s`, (backend) => {
  const items = 20_000;
  const width = 32;
  const k = 100;
  const fixture = structuredModel(items, width, 7);
  const users = fixture.users(60);
  let exact: DaeModel;
  let index: ItemIndex;
  let indexed: DaeModel;
  let dir: string;

  beforeAll(async () => {
    await initBackend(backend);
    exact = new DaeModel(fixture.config, fixture.params);
    index = await ItemIndex.build(exact, { search: 'clusters' });
    indexed = exact.withIndex(index);
    dir = mkdtempSync(join(tmpdir(), 'item-clusters-'));
  });
  afterAll(() => {
    exact.dispose();
    indexed.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const rankings = (n: number, exclude: (u: number) => number[] = () => []): Ranking[] =>
    Array.from({ length: n }, (_, u) => ({ k, exclude: exclude(u) }));

  it('finds at least 95% of the exact top 100 of each user, with the scores a decode gives them', () => {
    const want = exact.rank({ embeddings: users }, rankings(60));
    const got = indexed.rank({ embeddings: users }, rankings(60));
    expect(recall(got, want)).toBeGreaterThanOrEqual(0.95);
    got.forEach((row, u) => {
      expect(row.items).toHaveLength(k);
      const decoded = exact.scoresOf(users.subarray(u * width, (u + 1) * width), [Array.from(row.items)])[0];
      expect(Array.from(row.scores)).toEqual(Array.from(decoded));
      for (let n = 1; n < k; n++) expect(row.scores[n]).toBeLessThanOrEqual(row.scores[n - 1]);
    });
  });

  it('leaves out each row its excluded items and still returns k', () => {
    const first = indexed.rank({ embeddings: users.subarray(0, 20 * width) }, rankings(20));
    const exclude = (u: number) => Array.from(first[u].items.subarray(0, 30));
    const input = { embeddings: users.subarray(0, 20 * width) };
    const got = indexed.rank(input, rankings(20, exclude));
    const want = exact.rank(input, rankings(20, exclude));
    got.forEach((row, u) => {
      expect(row.items).toHaveLength(k);
      const excluded = new Set(exclude(u));
      expect(Array.from(row.items).filter((i) => excluded.has(i))).toEqual([]);
    });
    expect(recall(got, want)).toBeGreaterThanOrEqual(0.95);
  });

  it('ranks a row exactly when it excludes more than an eighth of the catalogue', () => {
    const exclude = () => Array.from({ length: 2_600 }, (_, i) => i * 7);
    const input = { embeddings: users.subarray(0, width) };
    const got = indexed.rank(input, rankings(1, exclude));
    const want = exact.rank(input, rankings(1, exclude));
    expect(Array.from(got[0].items)).toEqual(Array.from(want[0].items));
    expect(Array.from(got[0].scores)).toEqual(Array.from(want[0].scores));
  });

  it("finds at least 95% of each item's 100 most similar items, with their exact cosines", () => {
    const queries = Array.from({ length: 40 }, (_, n) => n * 397);
    const want = exact.rankSimilar(queries, rankings(40));
    const got = indexed.rankSimilar(queries, rankings(40));
    expect(recall(got, want)).toBeGreaterThanOrEqual(0.95);
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

  it('ranks the same after a save and a view of its files, and refuses a file of another width', () => {
    const files = ['cosine-clusters.bin', 'item-index.json', 'score-clusters.bin'];
    expect(index.save(dir).sort()).toEqual(files);
    expect(readdirSync(dir).sort()).toEqual(files);
    const viewed = ItemIndex.view(dir);
    expect(viewed.items).toBe(items);
    expect(viewed.probes).toBe(index.probes);
    const model = exact.withIndex(viewed);
    try {
      const input = { embeddings: users.subarray(0, 20 * width) };
      const [a, b] = [indexed.rank(input, rankings(20)), model.rank(input, rankings(20))];
      expect(b.map((row) => Array.from(row.items))).toEqual(a.map((row) => Array.from(row.items)));
    } finally {
      model.dispose();
    }
    const meta = JSON.parse(readFileSync(join(dir, 'item-index.json'), 'utf8')) as { width: number };
    writeFileSync(join(dir, 'item-index.json'), JSON.stringify({ ...meta, width: width - 1 }));
    expect(() => ItemIndex.view(dir)).toThrow(/not a file of item clusters of width 31/);
  });
});
