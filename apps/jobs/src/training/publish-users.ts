import { EmbeddingStoreRepository } from '@app/embedding-store';
import { CsrMatrix, DaeModel, rankUsers, sliceRows } from '@app/model';

/** Users encoded and written per step: bounds the memory of publishing any number of users. */
const PUBLISH_CHUNK_USERS = 4096;

/**
 * Every user's embedding (from all their items) to Redis, with their `topItems` best unseen items
 * ranked now: the API answers most requests from that list without decoding the catalogue.
 * Ranking costs one forward pass over the users, about a third of one training epoch.
 */
export async function publishUsers(
  store: EmbeddingStoreRepository,
  version: number,
  model: DaeModel,
  matrix: CsrMatrix,
  userIds: readonly string[],
  topItems: number,
  onUsers?: (done: number) => Promise<void> | void,
): Promise<void> {
  const dim = model.embeddingDim;
  for (let start = 0; start < matrix.rows; start += PUBLISH_CHUNK_USERS) {
    const end = Math.min(matrix.rows, start + PUBLISH_CHUNK_USERS);
    const vectors = model.encode(sliceRows(matrix, start, end));
    const tops = topItems > 0 ? rankUsers(model, vectors, topItems, matrix, start) : undefined;
    await store.writeVectors(version, 'user', { ids: userIds.slice(start, end), dim, vectors, tops });
    await onUsers?.(end);
  }
}
