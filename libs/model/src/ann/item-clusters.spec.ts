import { initBackend } from '../backend';
import { DaeModel } from '../dae.model';
import { ItemClusters } from './item-clusters';
import { structuredModel } from './structured-model.fixture';

describe(ItemClusters.name, () => {
  const fixture = structuredModel(5_000, 16, 3);
  const model = new DaeModel(fixture.config, fixture.params);
  afterAll(() => model.dispose());

  it.each(['scores', 'cosines'] as const)(
    'puts every item in exactly one cluster, ascending within it, reporting its steps (%s)',
    async (kind) => {
      await initBackend('cpu');
      const progress: number[][] = [];
      const clusters = await ItemClusters.build(kind, model.outputLayerParams(), { clusters: 40 }, (done, of) =>
        progress.push([done, of]),
      );
      expect(clusters.clusters).toBe(40);
      // 12 k-means rounds, then the 5,000 items assigned in one block
      expect(progress).toEqual(Array.from({ length: 13 }, (_, n) => [n + 1, 13]));
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
    const clusters = await ItemClusters.build('scores', model.outputLayerParams(), { clusters: 40 });
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
