import { ScoringPool, serializeModel } from '@app/model';
import { storeForVersions, untrainedModelOn } from './publish.fixture';
import { mostPopular, publishItems } from './publish-items';

describe('publishItems (Redis)', () => {
  const [ON_THIS_THREAD, ON_THE_POOL, NONE] = [9111, 9112, 9113];
  const stored = storeForVersions([ON_THIS_THREAD, ON_THE_POOL, NONE]);

  it("writes every item vector, and the popular items' nearest items by cosine (themselves left out) as a full sort ranks them", async () => {
    const { itemIds, matrix, model } = untrainedModelOn({ items: 150, dataSeed: 5, modelSeed: 3 });
    const items = itemIds.length;
    const vectors = model.itemEmbeddings();
    const cosines = model.itemCosines(Array.from({ length: items }, (_, i) => i));
    const progress: number[] = [];
    const pool = await ScoringPool.start(model, serializeModel(model, { itemIds }), { threads: 2, maxBatch: 64 });
    let depths: (number | null)[] = [];
    try {
      depths = [
        await publishItems(
          stored.store,
          ON_THIS_THREAD,
          model,
          matrix,
          itemIds,
          vectors,
          40,
          10,
          (done) => void progress.push(done),
        ),
        await publishItems(stored.store, ON_THE_POOL, model, matrix, itemIds, vectors, 40, 10, undefined, pool),
        await publishItems(stored.store, NONE, model, matrix, itemIds, vectors, 0, 10),
      ];
    } finally {
      await pool.close();
      model.dispose();
    }
    expect(depths).toEqual([10, 10, null]);
    expect(progress).toEqual([40]);

    // the 40 items most users have, by a count made here
    const users = new Map<number, number>();
    for (let u = 0; u < matrix.rows; u++)
      for (const i of matrix.indices.subarray(matrix.indptr[u], matrix.indptr[u + 1]))
        users.set(i, (users.get(i) ?? 0) + 1);
    const popular = mostPopular(matrix, 40);
    expect(new Set(popular).size).toBe(40);
    const least = Math.min(...popular.map((i) => users.get(i) ?? 0));
    for (let i = 0; i < items; i++) if (!popular.includes(i)) expect(users.get(i) ?? 0).toBeLessThanOrEqual(least);

    const [here, pooled, none] = await Promise.all(
      [ON_THIS_THREAD, ON_THE_POOL, NONE].map((v) => stored.store.readSimilar(v, itemIds)),
    );
    for (let i = 0; i < items; i++) {
      expect(none[i]).toBeNull();
      if (!popular.includes(i)) {
        expect(here[i]).toBeNull();
        expect(pooled[i]).toBeNull();
        continue;
      }
      const row = cosines.subarray(i * items, (i + 1) * items);
      const bySort = Array.from(row.keys())
        .filter((j) => j !== i)
        .sort((a, b) => row[b] - row[a] || a - b)
        .slice(0, 10);
      expect(Array.from(here[i]!.items)).toEqual(bySort);
      expect(Array.from(pooled[i]!.items)).toEqual(bySort);
      Array.from(here[i]!.scores).forEach((score, r) => expect(score).toBeCloseTo(row[bySort[r]], 5));
    }
    // the vectors are there either way
    const read = await stored.store.readVectors(NONE, 'item', itemIds);
    expect(read[7]).toEqual(vectors.vectors.subarray(7 * vectors.dim, 8 * vectors.dim));
  });
});
