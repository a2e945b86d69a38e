import { Ranking } from '../score';
import { DEEPEN, MAX_INDEX_SHARE, OVER_FETCH, overFetch } from './index-candidates';
import type { ItemIndex } from './item-index';

/** Exact scores of each row's listed items (lists[r] for row r of the chunk; an empty list costs nothing). */
export type ScoreLists = (lists: Uint32Array[]) => Float32Array[];

/** A row's scored candidates: what rankListed takes. */
export interface ScoredCandidates {
  items: Uint32Array;
  scores: Float32Array;
}

/**
 * Scores are float32 sums and the norms float64: a bound this much above |[h, 1]| · M still
 * holds where the exact sum rounds up.
 */
const BOUND_SLACK = 1e-4;

/**
 * Each row's candidates through the index's norm ranges, largest norms first, scored exactly as
 * they are found: an item of a range scores at most |[h, 1]| · M_range (M its largest norm), so a
 * row stops at the first range whose bound is below the k-th best exact score it holds (ranges
 * below have smaller norms). What candidatesFromIndex does otherwise: k + exclusions + the
 * over-fetch asked of the index (perRange of it from each range), the extra items (the item
 * term's) scored from the start, deeper when fewer than k of the index's survive the
 * exclusions, null (score the row whole) past MAX_INDEX_SHARE or for a non-finite row. The rows
 * needing a range are searched in one call.
 */
export function prunedCandidatesFromIndex(
  index: ItemIndex,
  hidden: Float32Array,
  rankings: readonly Ranking[],
  extras: readonly (ArrayLike<number> | null)[],
  items: number,
  score: ScoreLists,
  prune = true,
): { rows: (ScoredCandidates | null)[]; rangesSearched: number } {
  const width = index.width;
  const count = rankings.length;
  const queries = index.scoreQueries(hidden, count);
  const rows: (ScoredCandidates | null)[] = new Array<ScoredCandidates | null>(count).fill(null);
  const states: RowState[] = [];
  for (let r = 0; r < count; r++) {
    const h = hidden.subarray(r * width, (r + 1) * width);
    if (!h.every(Number.isFinite)) continue;
    const excluded = new Set<number>(Array.from(rankings[r].exclude));
    const k = Math.min(rankings[r].k, items);
    const per = OVER_FETCH.scores;
    let norm = 1;
    for (let n = 0; n < width; n++) norm += h[n] * h[n];
    states.push({
      row: r,
      k,
      excluded,
      want: k + excluded.size + overFetch(k, per),
      limit: Math.max(k + overFetch(k, per), Math.floor(items * MAX_INDEX_SHARE)),
      norm: Math.sqrt(norm) * (1 + BOUND_SLACK),
      ...freshCandidates(k),
    });
  }
  let rangesSearched = 0;
  let pending = states.filter((s) => s.want <= s.limit);
  while (pending.length > 0) {
    // the extras first: their scores count towards the k-th best from the first range on
    addScored(
      pending,
      pending.map((s) => unseen(extras[s.row], s)),
      count,
      score,
    );
    for (let range = index.ranges - 1; range >= 0; range--) {
      const bound = prune ? index.rangeNorm(range) : null;
      const active = pending.filter((s) => {
        const reaches = bound === null || s.best.size < s.k || s.norm * bound >= s.best.min();
        // its top k is among the items scored: those of this range and below score less
        if (!reaches) s.pruned = true;
        return reaches;
      });
      if (active.length === 0) break;
      const each = active.map((s) => index.perRange(s.want));
      const found = index.searchRange(
        range,
        index.pickQueries(
          queries,
          active.map((s) => s.row),
        ),
        active.length,
        Math.max(...each),
      );
      rangesSearched += active.length;
      const lists = active.map((s, n) => {
        const list = unseen(found[n].subarray(0, each[n]), s);
        s.fromIndex += list.length;
        return list;
      });
      addScored(active, lists, count, score);
    }
    const next: RowState[] = [];
    for (const s of pending) {
      if (s.fromIndex >= s.k || s.pruned) {
        rows[s.row] = { items: Uint32Array.from(s.items), scores: Float32Array.from(s.scores) };
        continue;
      }
      s.want *= DEEPEN;
      if (s.want > s.limit) continue;
      Object.assign(s, freshCandidates(s.k));
      next.push(s);
    }
    pending = next;
  }
  return { rows, rangesSearched };
}

interface RowState {
  row: number;
  k: number;
  excluded: Set<number>;
  want: number;
  /** Past this many wanted, the row is scored whole. */
  limit: number;
  /** |[h, 1]|, with the rounding slack. */
  norm: number;
  seen: Set<number>;
  items: number[];
  scores: number[];
  /** The index's items (not the extras) kept. */
  fromIndex: number;
  best: KBest;
  /** Ranges were left unsearched: their bound could not reach the k-th best. */
  pruned: boolean;
}

const freshCandidates = (k: number) => ({
  seen: new Set<number>(),
  items: [] as number[],
  scores: [] as number[],
  fromIndex: 0,
  best: new KBest(k),
  pruned: false,
});

/** The listed items a row has neither scored nor excluded, marked seen. */
function unseen(list: ArrayLike<number> | null, s: RowState): Uint32Array {
  const out: number[] = [];
  if (list)
    for (let n = 0; n < list.length; n++) {
      const i = list[n];
      if (s.seen.has(i) || s.excluded.has(i)) continue;
      s.seen.add(i);
      out.push(i);
    }
  return Uint32Array.from(out);
}

/** Scores each state's new items (lists[n] for states[n]) in one call and keeps them. */
function addScored(states: RowState[], lists: Uint32Array[], count: number, score: ScoreLists): void {
  if (lists.every((list) => list.length === 0)) return;
  const byRow: Uint32Array[] = Array.from({ length: count }, () => new Uint32Array(0));
  states.forEach((s, n) => (byRow[s.row] = lists[n]));
  const scored = score(byRow);
  states.forEach((s, n) => {
    const list = lists[n];
    const values = scored[s.row];
    for (let c = 0; c < list.length; c++) {
      s.items.push(list[c]);
      s.scores.push(values[c]);
      s.best.offer(values[c]);
    }
  });
}

/** The k largest values offered: a min-heap, so min() is the k-th best once k have come. */
class KBest {
  private readonly heap: Float64Array;
  size = 0;

  constructor(private readonly k: number) {
    this.heap = new Float64Array(Math.max(1, k));
  }

  min(): number {
    return this.heap[0];
  }

  offer(x: number): void {
    const heap = this.heap;
    if (this.size < this.k) {
      let at = this.size++;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (heap[parent] <= x) break;
        heap[at] = heap[parent];
        at = parent;
      }
      heap[at] = x;
      return;
    }
    if (!(x > heap[0])) return;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= this.size) break;
      const child = left + 1 < this.size && heap[left + 1] < heap[left] ? left + 1 : left;
      if (heap[child] >= x) break;
      heap[at] = heap[child];
      at = child;
    }
    heap[at] = x;
  }
}
