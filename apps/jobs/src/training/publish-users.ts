import { EmbeddingStoreRepository } from '@app/embedding-store';
import {
  CsrMatrix,
  DaeModel,
  EmbeddingMap,
  EmbeddingMapFitter,
  RankedItems,
  rankUsers,
  ScoringPool,
  sliceRows,
} from '@app/model';

/** Users encoded and written per step: bounds the memory of publishing any number of users. */
const PUBLISH_CHUNK_USERS = 4096;

/**
 * Every user's embedding (from all their items) to Redis, with the items it was encoded from and
 * their `topItems` best unseen items ranked now: the API answers most requests from that list
 * without decoding the catalogue. Ranking costs one forward pass over the users, about a third of one training epoch; with a
 * scoring pool it runs on the pool's threads (ranked where scored), else on this one. Returns the
 * users' map (their first two principal components), fitted on the way from an even sample.
 */
export async function publishUsers(
  store: EmbeddingStoreRepository,
  version: number,
  model: DaeModel,
  matrix: CsrMatrix,
  userIds: readonly string[],
  topItems: number,
  onUsers?: (done: number) => Promise<void> | void,
  scoring?: ScoringPool,
): Promise<EmbeddingMap | null> {
  const dim = model.embeddingDim;
  const map = new EmbeddingMapFitter(dim, matrix.rows);
  for (let start = 0; start < matrix.rows; start += PUBLISH_CHUNK_USERS) {
    const end = Math.min(matrix.rows, start + PUBLISH_CHUNK_USERS);
    const vectors = model.encode(sliceRows(matrix, start, end));
    map.add(vectors, start);
    const tops = topItems > 0 ? await rank(model, vectors, topItems, matrix, start, scoring) : undefined;
    // what each vector was encoded from: the API's seen items for the user until they act again
    const seen = Array.from({ length: end - start }, (_, r) =>
      matrix.indices.subarray(matrix.indptr[start + r], matrix.indptr[start + r + 1]),
    );
    await store.writeVectors(version, 'user', { ids: userIds.slice(start, end), dim, vectors, tops, seen });
    await onUsers?.(end);
  }
  return map.fit();
}

/** Each user's best items, their own (row `first + r` of `seen`) left out. */
function rank(
  model: DaeModel,
  vectors: Float32Array,
  k: number,
  seen: CsrMatrix,
  first: number,
  scoring?: ScoringPool,
): Promise<RankedItems[]> | RankedItems[] {
  const dim = model.embeddingDim;
  const users = vectors.length / dim;
  const ownOf = (r: number) => seen.indices.subarray(seen.indptr[first + r], seen.indptr[first + r + 1]);
  if (!scoring) {
    if (!model.index) return rankUsers(model, vectors, k, seen, first);
    // a large catalogue: the item index's candidates, scored exactly (with the item term, as the threads do)
    const owns = Array.from({ length: users }, (_, r) => ownOf(r));
    return model.rank(
      { embeddings: vectors, histories: owns },
      owns.map((exclude) => ({ k, exclude })),
    );
  }
  return Promise.all(
    Array.from({ length: users }, (_, r) => {
      const own = ownOf(r);
      // a plain array: a view posted to a thread would clone the whole matrix's buffer
      return scoring.decode(vectors.subarray(r * dim, (r + 1) * dim), { k, exclude: own }, Array.from(own));
    }),
  );
}
