import { initBackend } from './backend';
import { DaeModel } from './dae.model';
import { rowsFromItemLists } from './interaction-matrix';
import { reconstructionLoss, sampledReconstructionLoss, stratifiedSample } from './anomaly';
import { ItemClusters } from './ann/item-clusters';
import { structuredModel } from './ann/structured-model.fixture';
import { createRng } from '@app/random';

/** Spearman's rank correlation of two equally long lists. */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ranks = (x: ArrayLike<number>) => {
    const order = Array.from({ length: x.length }, (_, i) => i).sort((i, j) => x[i] - x[j]);
    const out = new Float64Array(x.length);
    order.forEach((i, r) => (out[i] = r));
    return out;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const n = a.length;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (ra[i] - rb[i]) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe(sampledReconstructionLoss.name, () => {
  it('ranks users as the exact loss does and stays near it, from eight members of each item cluster', async () => {
    await initBackend();
    const items = 20_000;
    const fixture = structuredModel(items, 32, 5);
    const model = new DaeModel(fixture.config, fixture.params);
    try {
      const rng = createRng(9);
      // most users keep to what the model expects of them (their best items), some pick at random
      const best = model.rank(
        { embeddings: fixture.users(150) },
        Array.from({ length: 150 }, () => ({ k: 40, exclude: [] })),
      );
      const histories = best.map((row, u) =>
        u % 3 === 0
          ? Array.from({ length: 10 }, () => Math.floor(rng.next() * items))
          : Array.from(row.items.subarray(0, 5 + (u % 20))),
      );
      const rows = rowsFromItemLists(items, histories);
      const clusters = await ItemClusters.build('scores', model.outputLayerParams());
      const sample = stratifiedSample(clusters.offsets, clusters.members);
      expect(sample.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(items, 6);
      const exact = reconstructionLoss(model, rows);
      const sampled = sampledReconstructionLoss(model, rows, sample);
      expect(spearman(exact, sampled)).toBeGreaterThan(0.95);
      let worst = 0;
      exact.forEach((e, u) => (worst = Math.max(worst, Math.abs(sampled[u] - e) / e)));
      expect(worst).toBeLessThan(0.3);
    } finally {
      model.dispose();
    }
  });
});
