import { EmbeddingStoreRepository } from '@app/embedding-store';
import { CsrMatrix, DaeModel, itemUsers, rankedItems, RankedItems, ScoringPool, topK } from '@app/model';

/** Nearest items precomputed per popular item: as deep as the API's own neighbour lists. */
export const SIMILAR_ITEMS_DEPTH = 100;
/** Items compared per step: bounds the queued work and the memory of one step's cosine rows. */
const PUBLISH_CHUNK_ITEMS = 1024;
/** Items per cosine product on this thread (no scoring pool): 64 rows of 4 bytes per catalogue item. */
const COSINE_BLOCK_ITEMS = 64;

/**
 * Every item's vector (model.itemEmbeddings) to Redis, and for the `precomputed` most popular
 * items (by training users) their `depth` nearest items by cosine, themselves left out:
 * `similarItems` then answers those with one Redis read, in every API process and from its first
 * request, instead of comparing the item with the whole catalogue (a decode's worth of work) once
 * per process. Compared on the
 * scoring pool's threads when there is one. Returns the depth the lists were ranked to, or null
 * when none were (the version's meta says which).
 */
export async function publishItems(
  store: EmbeddingStoreRepository,
  version: number,
  model: DaeModel,
  matrix: CsrMatrix,
  itemIds: readonly string[],
  vectors: { dim: number; vectors: Float32Array },
  precomputed: number,
  depth: number,
  onItems?: (done: number, of: number) => Promise<void> | void,
  scoring?: ScoringPool,
): Promise<number | null> {
  const chosen = mostPopular(matrix, Math.min(precomputed, itemIds.length));
  const similar = new Array<RankedItems | undefined>(itemIds.length);
  for (let start = 0; start < chosen.length; start += PUBLISH_CHUNK_ITEMS) {
    const chunk = chosen.slice(start, start + PUBLISH_CHUNK_ITEMS);
    const ranked = await nearest(model, chunk, depth, scoring);
    chunk.forEach((item, n) => (similar[item] = ranked[n]));
    await onItems?.(start + chunk.length, chosen.length);
  }
  await store.writeVectors(version, 'item', { ids: itemIds, dim: vectors.dim, vectors: vectors.vectors, similar });
  return chosen.length > 0 ? depth : null;
}

/** Item indices by how many users have each, most first; ties to the lower index. */
export function mostPopular(matrix: CsrMatrix, count: number): number[] {
  return Array.from(topK(itemUsers(matrix), count));
}

function nearest(
  model: DaeModel,
  items: number[],
  k: number,
  scoring?: ScoringPool,
): Promise<RankedItems[]> | RankedItems[] {
  if (scoring) return Promise.all(items.map((item) => scoring.similar(item, { k, exclude: [item] })));
  // a large catalogue: the item index's nearest candidates, compared exactly
  if (model.index)
    return model.rankSimilar(
      items,
      items.map((item) => ({ k, exclude: [item] })),
    );
  const catalogue = model.config.items;
  const out: RankedItems[] = [];
  for (let start = 0; start < items.length; start += COSINE_BLOCK_ITEMS) {
    const block = items.slice(start, start + COSINE_BLOCK_ITEMS);
    const cosines = model.itemCosines(block);
    block.forEach((item, r) => out.push(rankedItems(cosines.subarray(r * catalogue, (r + 1) * catalogue), k, [item])));
  }
  return out;
}
