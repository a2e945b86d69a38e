import { CsrMatrix } from './interaction-matrix';

/**
 * The k highest-scoring items of one score row, best first, skipping the excluded items,
 * by partial selection (a size-k min-heap: O(items log k)), never a sort of the catalogue.
 * Ties go to the lower item index, so results are deterministic. Fewer than k if too few remain.
 */
export function topK(scores: ArrayLike<number>, k: number, exclude?: ArrayLike<number>): Int32Array {
  const excluded = exclude && exclude.length > 0 ? new Set<number>(Array.from(exclude)) : null;
  const heapItems = new Int32Array(Math.max(0, k));
  const heapScores = new Float64Array(Math.max(0, k));
  let size = 0;
  // heap root = the worst of the kept items
  const worse = (a: number, b: number) => heapScores[a] < heapScores[b] || (heapScores[a] === heapScores[b] && heapItems[a] > heapItems[b]);
  const swap = (a: number, b: number) => {
    const i = heapItems[a];
    heapItems[a] = heapItems[b];
    heapItems[b] = i;
    const s = heapScores[a];
    heapScores[a] = heapScores[b];
    heapScores[b] = s;
  };
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let m = at;
      if (l < size && worse(l, m)) m = l;
      if (r < size && worse(r, m)) m = r;
      if (m === at) return;
      swap(at, m);
      at = m;
    }
  };
  if (k <= 0) return new Int32Array(0);
  let worstScore = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    // most items fall below the kept k: one comparison with the worst kept (NaN fails it too),
    // and the exclusions are looked up only for contenders
    if (size === k && !(s > worstScore || (s === worstScore && i < heapItems[0]))) continue;
    if (Number.isNaN(s) || (excluded && excluded.has(i))) continue;
    if (size < k) {
      heapItems[size] = i;
      heapScores[size] = s;
      // sift up
      let at = size++;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!worse(at, parent)) break;
        swap(at, parent);
        at = parent;
      }
    } else {
      heapItems[0] = i;
      heapScores[0] = s;
      siftDown(0);
    }
    if (size === k) worstScore = heapScores[0];
  }
  // pop worst-first into the back of the result
  const out = new Int32Array(size);
  for (let n = size - 1; n >= 0; n--) {
    out[n] = heapItems[0];
    swap(0, size - 1);
    size--;
    siftDown(0);
  }
  return out;
}

/** topK for each row of a row-major score block; row r excludes exclusions' row r (e.g. the user's own items). */
export function topKRows(scores: Float32Array, items: number, k: number, exclusions?: CsrMatrix, exclusionOffset = 0): Int32Array[] {
  const rows = scores.length / items;
  const out: Int32Array[] = [];
  for (let r = 0; r < rows; r++) {
    const row = scores.subarray(r * items, (r + 1) * items);
    const e = exclusions ? exclusions.indices.subarray(exclusions.indptr[exclusionOffset + r], exclusions.indptr[exclusionOffset + r + 1]) : undefined;
    out.push(topK(row, k, e));
  }
  return out;
}

/** Serving shortcut: the top k items for each row's user, excluding the items already in the row. */
export function recommendRows(model: { scores(rows: CsrMatrix): Float32Array; config: { items: number } }, rows: CsrMatrix, k: number): Int32Array[] {
  return topKRows(model.scores(rows), model.config.items, k, rows);
}

/** A user's best items, best first: item indices and their scores. */
export interface RankedItems {
  items: Uint32Array;
  scores: Float32Array;
}

/** The top k of one score row as indices and scores, skipping the excluded items. */
export function rankedItems(scores: ArrayLike<number>, k: number, exclude?: ArrayLike<number>): RankedItems {
  const items = topK(scores, k, exclude);
  return { items: Uint32Array.from(items), scores: Float32Array.from(items, (i) => scores[i]) };
}

/** Score values decoded at once when ranking many users: bounds memory for any catalogue size. */
const RANKING_BLOCK_SCORES = 8 * 1024 * 1024;

/**
 * Each user's k best items from their embeddings, their own items (row r of `seen`, from
 * `seenOffset`) left out. Decodes a block of users at a time, so memory stays at
 * RANKING_BLOCK_SCORES floats whatever the catalogue.
 */
export function rankUsers(
  model: { decode(embeddings: Float32Array, count: number): Float32Array; embeddingDim: number; config: { items: number } },
  embeddings: Float32Array,
  k: number,
  seen?: CsrMatrix,
  seenOffset = 0,
  blockScores = RANKING_BLOCK_SCORES,
): RankedItems[] {
  const dim = model.embeddingDim;
  const items = model.config.items;
  const count = embeddings.length / dim;
  const block = Math.max(1, Math.floor(blockScores / items));
  const out: RankedItems[] = [];
  for (let start = 0; start < count; start += block) {
    const end = Math.min(count, start + block);
    const scores = model.decode(embeddings.subarray(start * dim, end * dim), end - start);
    for (let r = start; r < end; r++) {
      const row = scores.subarray((r - start) * items, (r - start + 1) * items);
      const own = seen ? seen.indices.subarray(seen.indptr[seenOffset + r], seen.indptr[seenOffset + r + 1]) : undefined;
      out.push(rankedItems(row, k, own));
    }
  }
  return out;
}
