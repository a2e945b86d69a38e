import { CsrMatrix } from './interaction-matrix';

/**
 * The k highest-scoring items of one score row, best first, skipping the excluded items,
 * by partial selection (a size-k min-heap: O(items log k)), never a sort of the catalogue; the heap
 * is inlined over typed arrays (closures over it cost 1.4x at k = 120, 20k items).
 * Ties go to the lower item index, so results are deterministic. Fewer than k if too few remain.
 */
export function topK(scores: ArrayLike<number>, k: number, exclude?: ArrayLike<number>): Int32Array {
  if (k <= 0) return new Int32Array(0);
  const excluded = exclude && exclude.length > 0 ? new Set<number>(Array.from(exclude)) : null;
  return heapTop(scores, 1, 0, k, excluded, null, scores.length);
}

/**
 * The heap selection over the scores at offset + i * stride for items i = 0..count-1, or for the
 * items in `candidates` (ascending) when given: the k best, best first, excluded ones skipped.
 */
function heapTop(
  scores: ArrayLike<number>,
  stride: number,
  offset: number,
  k: number,
  excluded: Set<number> | null,
  candidates: Int32Array | null,
  count: number,
): Int32Array {
  // a min-heap of the kept items: root = the worst kept (lowest score; of equal scores, the higher index)
  const items = new Int32Array(k);
  const values = new Float64Array(k);
  let size = 0;
  let worst = -Infinity;
  for (let c = 0; c < count; c++) {
    const i = candidates === null ? c : candidates[c];
    const s = scores[offset + i * stride];
    // the scan's one comparison: most items are not better than the worst kept. An equal score
    // loses too, as items come in index order and ties go to the lower index. NaN never enters.
    if (!(s > worst) && (size === k || s !== s)) continue;
    if (excluded !== null && excluded.has(i)) continue;
    if (size < k) {
      // sift up from the end
      let at = size++;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        const ps = values[parent];
        if (!(s < ps || (s === ps && i > items[parent]))) break;
        items[at] = items[parent];
        values[at] = ps;
        at = parent;
      }
      items[at] = i;
      values[at] = s;
    } else {
      siftDown(items, values, size, 0, i, s);
    }
    if (size === k) worst = values[0];
  }
  // pop worst-first into the back of the result
  const out = new Int32Array(size);
  for (let left = size; left > 0; left--) {
    out[left - 1] = items[0];
    if (left > 1) siftDown(items, values, left - 1, 0, items[left - 1], values[left - 1]);
  }
  return out;
}

/** One item in this many is sampled for a column's threshold, which about THRESHOLD_MARGIN x k items reach. */
const SAMPLE_STRIDE = 16;
const THRESHOLD_MARGIN = 3;

/**
 * rankedItems of each column of an items-major block (items x n, row-major: item i's n scores side
 * by side, as the output layer's product leaves them), column r ranked by rankings[r]: the same
 * items, without transposing the block into rows first. A strided sample gives each column a
 * threshold a few k items reach; one pass over the block collects each column's items at or above
 * it (every one of its top k, once at least k are), and the heap sees only those. A column whose
 * threshold let too few through is ranked whole.
 */
export function rankColumns(block: Float32Array, items: number, rankings: readonly Ranking[]): RankedItems[] {
  const n = rankings.length;
  return columnTops(block, items, rankings).map(({ top }, r) => ({
    items: Uint32Array.from(top),
    scores: Float32Array.from(top, (i) => block[i * n + r]),
  }));
}

/**
 * For approximate scores in an items-major block, each within margins[r] of column r's true ones:
 * the items that may be in column r's true top k (rankings[r], excluded items left out),
 * ascending. Those are the items within twice the margin of the k-th best approximate score, so
 * the column's sampled threshold (rankColumns') usually has them collected already.
 */
export function candidatesOf(
  block: Float32Array,
  items: number,
  rankings: readonly Ranking[],
  margins: Float64Array,
): Int32Array[] {
  const n = rankings.length;
  return columnTops(block, items, rankings).map(({ top, threshold, found, excluded }, r) => {
    const k = rankings[r].k;
    if (k <= 0) return new Int32Array(0);
    const floor = top.length < k ? -Infinity : block[top[k - 1] * n + r] - 2 * margins[r];
    // the collected items hold every one at or above the floor only when the threshold is below it
    const pool = floor >= threshold ? found : null;
    const count = pool ? pool.length : items;
    const out = new Int32Array(count);
    let size = 0;
    for (let c = 0; c < count; c++) {
      const i = pool ? pool[c] : c;
      if (block[i * n + r] >= floor && (excluded === null || !excluded.has(i))) out[size++] = i;
    }
    return out.subarray(0, size);
  });
}

/**
 * For one row of approximate scores, each within `margin` of its true one: the items that may be
 * in the row's true top k (within twice the margin of the k-th best approximate score, excluded
 * items left out), best first, at most `cap` of them. One sampled-threshold heap over the row
 * finds both, where listing every item within the margin first costs a pass over them all when the
 * margin is wide (an 8-bit layer's: most of a probed block).
 */
export function boundedCandidates(block: Float32Array, ranking: Ranking, margin: number, cap: number): Int32Array {
  const { k } = ranking;
  if (k <= 0) return new Int32Array(0);
  const [{ top }] = columnTops(block, block.length, [{ k: Math.max(k, cap), exclude: ranking.exclude }]);
  if (top.length <= k) return top;
  const floor = block[top[k - 1]] - 2 * margin;
  let size = k;
  while (size < top.length && block[top[size]] >= floor) size++;
  return top.subarray(0, size);
}

/** Each column's top k (rankColumns' way), with the threshold and collected items that found it. */
function columnTops(
  block: Float32Array,
  items: number,
  rankings: readonly Ranking[],
): { top: Int32Array; threshold: number; found: Int32Array; excluded: Set<number> | null }[] {
  const n = rankings.length;
  if (block.length !== items * n) throw new RangeError(`expected ${items} x ${n} scores`);
  const thresholds = Float64Array.from(rankings, ({ k }, r) => columnThreshold(block, items, n, r, k));
  const found = itemsAtLeast(block, items, thresholds);
  return rankings.map(({ k, exclude }, r) => {
    const excluded = exclude.length > 0 ? new Set<number>(Array.from(exclude)) : null;
    let top = k > 0 ? heapTop(block, n, r, k, excluded, found[r], found[r].length) : new Int32Array(0);
    // fewer than k came through: the threshold proves nothing, so the whole column
    if (top.length < k) top = heapTop(block, n, r, k, excluded, null, items);
    return { top, threshold: thresholds[r], found: found[r], excluded };
  });
}

/**
 * Each column's items scoring at least thresholds[r] in an items-major block (items x n), in
 * ascending order: one sequential pass over the block for all columns.
 */
function itemsAtLeast(block: Float32Array, items: number, thresholds: Float64Array): Int32Array[] {
  const n = thresholds.length;
  const found = Array.from(thresholds, () => new Int32Array(256));
  const counts = new Int32Array(n);
  for (let i = 0, at = 0; i < items; i++) {
    for (let r = 0; r < n; r++, at++) {
      if (!(block[at] >= thresholds[r])) continue;
      if (counts[r] === found[r].length) {
        const grown = new Int32Array(2 * counts[r]);
        grown.set(found[r]);
        found[r] = grown;
      }
      found[r][counts[r]++] = i;
    }
  }
  return found.map((f, r) => f.subarray(0, counts[r]));
}

/** The k best of listed items and their scores (scores[n] is items[n]'s), ordered as topK orders them. */
export function rankListed(items: ArrayLike<number>, scores: Float32Array, k: number): RankedItems {
  const order = Array.from({ length: items.length }, (_, n) => n)
    .filter((n) => scores[n] === scores[n])
    .sort((a, b) => scores[b] - scores[a] || items[a] - items[b])
    .slice(0, Math.max(0, k));
  return { items: Uint32Array.from(order, (n) => items[n]), scores: Float32Array.from(order, (n) => scores[n]) };
}

/** A score about THRESHOLD_MARGIN x k items of column r reach, from every SAMPLE_STRIDE-th item; -Infinity when the sample is too small to say. */
function columnThreshold(block: Float32Array, items: number, n: number, r: number, k: number): number {
  const sampled = Math.ceil(items / SAMPLE_STRIDE);
  const rank = Math.ceil((THRESHOLD_MARGIN * k) / SAMPLE_STRIDE);
  if (k <= 0 || rank >= sampled / 4) return -Infinity;
  const top = heapTop(block, n * SAMPLE_STRIDE, r, rank, null, null, sampled);
  return top.length === rank ? block[top[rank - 1] * n * SAMPLE_STRIDE + r] : -Infinity;
}

/** Places (item, value) at `at` of a heap of `size` and moves it down to where it belongs. */
function siftDown(
  items: Int32Array,
  values: Float64Array,
  size: number,
  at: number,
  item: number,
  value: number,
): void {
  for (;;) {
    const l = 2 * at + 1;
    if (l >= size) break;
    // the worse child: lower score, or the higher index on a tie
    let c = l;
    const r = l + 1;
    if (r < size && (values[r] < values[l] || (values[r] === values[l] && items[r] > items[l]))) c = r;
    const cv = values[c];
    if (!(cv < value || (cv === value && items[c] > item))) break;
    items[at] = items[c];
    values[at] = cv;
    at = c;
  }
  items[at] = item;
  values[at] = value;
}

/** topK for each row of a row-major score block; row r excludes exclusions' row r (e.g. the user's own items). */
export function topKRows(
  scores: Float32Array,
  items: number,
  k: number,
  exclusions?: CsrMatrix,
  exclusionOffset = 0,
): Int32Array[] {
  const rows = scores.length / items;
  const out: Int32Array[] = [];
  for (let r = 0; r < rows; r++) {
    const row = scores.subarray(r * items, (r + 1) * items);
    const e = exclusions
      ? exclusions.indices.subarray(exclusions.indptr[exclusionOffset + r], exclusions.indptr[exclusionOffset + r + 1])
      : undefined;
    out.push(topK(row, k, e));
  }
  return out;
}

/** Serving shortcut: the top k items for each row's user, excluding the items already in the row. */
export function recommendRows(
  model: { scores(rows: CsrMatrix): Float32Array; config: { items: number } },
  rows: CsrMatrix,
  k: number,
): Int32Array[] {
  return topKRows(model.scores(rows), model.config.items, k, rows);
}

/** Rank a row: its k best items, these left out. */
export interface Ranking {
  k: number;
  exclude: ArrayLike<number>;
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
  model: {
    decode(
      embeddings: Float32Array,
      count: number,
      into?: Float32Array,
      layout?: 'users',
      histories?: readonly ArrayLike<number>[],
    ): Float32Array;
    embeddingDim: number;
    config: { items: number };
  },
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
    const ownOf = (r: number) => seen!.indices.subarray(seen!.indptr[seenOffset + r], seen!.indptr[seenOffset + r + 1]);
    // the seen items are what each embedding was encoded from: the item term's histories
    const histories = seen ? Array.from({ length: end - start }, (_, r) => ownOf(start + r)) : undefined;
    const scores = model.decode(
      embeddings.subarray(start * dim, end * dim),
      end - start,
      undefined,
      'users',
      histories,
    );
    for (let r = start; r < end; r++) {
      const row = scores.subarray((r - start) * items, (r - start + 1) * items);
      out.push(rankedItems(row, k, seen ? ownOf(r) : undefined));
    }
  }
  return out;
}

/**
 * A ranking with the seen items back in, from the ranking of the unseen ones (`top`, best first,
 * ranked to `depth`) and the seen items' scores: best first, ties to the lower index, as topK
 * orders them. A `top` as long as `depth` may have been cut, and an unseen item below the cut may
 * outscore a seen one: the list then ends at top's last item and `complete` is false.
 */
export function withSeenItems(
  top: { items: ArrayLike<number>; scores: ArrayLike<number> },
  depth: number,
  seen: ArrayLike<number>,
  seenScores: ArrayLike<number>,
): RankedItems & { complete: boolean } {
  const order = Array.from({ length: seen.length }, (_, r) => r).sort(
    (a, b) => seenScores[b] - seenScores[a] || seen[a] - seen[b],
  );
  const complete = top.items.length < depth;
  const items: number[] = [];
  const scores: number[] = [];
  let s = 0;
  const takeSeen = () => (items.push(seen[order[s]]), scores.push(seenScores[order[s]]), s++);
  for (let t = 0; t < top.items.length; t++) {
    const [item, score] = [top.items[t], top.scores[t]];
    while (s < order.length && ranksBefore(seenScores[order[s]], seen[order[s]], score, item)) takeSeen();
    items.push(item);
    scores.push(score);
  }
  if (complete) while (s < order.length) takeSeen();
  return { items: Uint32Array.from(items), scores: Float32Array.from(scores), complete };
}

function ranksBefore(score: number, item: number, otherScore: number, otherItem: number): boolean {
  return score > otherScore || (score === otherScore && item < otherItem);
}
