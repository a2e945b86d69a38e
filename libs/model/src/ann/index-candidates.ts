import { Ranking } from '../score';

/**
 * Candidates fetched beyond k and the exclusions, per k: the graph walk misses some of the best
 * items and finds them when it goes wider, and exact scores of candidates are cheap (a few
 * hundred dot products). For scores, 8k candidates found 97% of the exact top 100 on a clustered
 * 20,000-item layer, 3k 93%, k alone 90%; cosines (one graph, unpadded vectors) are easier: 2k
 * found 99.9% at 200,000 items (bench/ann.ts).
 */
export const OVER_FETCH = { scores: 7, cosines: 1 } as const;

export const overFetch = (k: number, per: number) => Math.max(32, per * k);

/** Deeper searches stop here (a fraction of the catalogue): past it, scoring every item is as cheap. */
export const MAX_INDEX_SHARE = 1 / 8;

/** Each deeper search asks for this many times the last one's candidates. */
export const DEEPEN = 4;

/**
 * A row's items to score exactly: what `search(want)` returns (its best `want` by the index),
 * plus `extra` (items whose score the index cannot know, the item term's), less the exclusions;
 * deeper until at least k of the index's survive the exclusions. Null when that would take more
 * than MAX_INDEX_SHARE of the catalogue: the row is better scored whole.
 */
export function candidatesFromIndex(
  search: (want: number) => Uint32Array,
  items: number,
  ranking: Ranking,
  extra: ArrayLike<number> | null,
  per: number = OVER_FETCH.scores,
): Uint32Array | null {
  const excluded = new Set<number>();
  for (let n = 0; n < ranking.exclude.length; n++) excluded.add(ranking.exclude[n]);
  const k = Math.min(ranking.k, items);
  const bound = Math.max(k + overFetch(k, per), Math.floor(items * MAX_INDEX_SHARE));
  for (let want = k + excluded.size + overFetch(k, per); ; want *= DEEPEN) {
    if (want > bound) return null;
    const found = search(want);
    const kept = new Set<number>();
    for (let n = 0; n < found.length; n++) if (!excluded.has(found[n])) kept.add(found[n]);
    if (kept.size >= k) {
      if (extra) for (let n = 0; n < extra.length; n++) if (!excluded.has(extra[n])) kept.add(extra[n]);
      return Uint32Array.from(kept);
    }
  }
}
