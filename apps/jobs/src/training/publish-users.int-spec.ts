import { EmbeddingMap, projectOnMap, ScoringPool, serializeModel } from '@app/model';
import { storeForVersions, untrainedModelOn } from './publish.fixture';
import { publishUsers } from './publish-users';

// the training job ranks users on its threads when it has more than one: same lists as on one
describe('publishUsers (Redis)', () => {
  const [ON_THIS_THREAD, ON_THE_POOL] = [9101, 9102];
  const stored = storeForVersions([ON_THIS_THREAD, ON_THE_POOL]);

  it('writes the same embeddings, top items (own items left out) and seen items whether ranked here or on scoring threads', async () => {
    const { userIds, itemIds, matrix, model } = untrainedModelOn({ items: 120, dataSeed: 4, modelSeed: 2 });
    let maps: (EmbeddingMap | null)[] = [];
    const pool = await ScoringPool.start(model, serializeModel(model, { itemIds }), { threads: 2, maxBatch: 64 });
    try {
      maps = [
        await publishUsers(stored.store, ON_THIS_THREAD, model, matrix, userIds, 10),
        await publishUsers(stored.store, ON_THE_POOL, model, matrix, userIds, 10, undefined, pool),
      ];
    } finally {
      await pool.close();
      model.dispose();
    }
    const [here, pooled] = await Promise.all(
      [ON_THIS_THREAD, ON_THE_POOL].map((v) => stored.store.readUsers(v, userIds)),
    );
    for (let u = 0; u < userIds.length; u++) {
      const own = new Set(matrix.indices.subarray(matrix.indptr[u], matrix.indptr[u + 1]));
      expect(pooled[u]!.vector).toEqual(here[u]!.vector);
      expect(Array.from(pooled[u]!.top!.items)).toEqual(Array.from(here[u]!.top!.items));
      expect(pooled[u]!.top!.items).toHaveLength(10);
      Array.from(pooled[u]!.top!.items).forEach((i) => expect(own.has(i)).toBe(false));
      // and the items each vector came from: what the API leaves out without asking Postgres
      for (const user of [here[u]!, pooled[u]!])
        expect([...user.seen!].sort((a, b) => a - b)).toEqual([...own].sort((a, b) => a - b));
    }
    // the users' map, fitted on the way from every user's vector
    expect(maps[0]).toMatchObject({ dim: 8, rows: 300, normalize: false });
    expect(maps[1]).toEqual(maps[0]);
    expect(projectOnMap(maps[0]!, here[0]!.vector)).toHaveLength(2);
  });
});
