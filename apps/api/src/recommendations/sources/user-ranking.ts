import { Injectable } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { TopItems } from '@app/embedding-store';
import { rankedItems, withSeenItems } from '@app/model';
import { LiveModel } from '../live-model.service';
import { RankedItem } from '../models/recommendations.model';
import { Ask } from './source';
import { UserSubject } from './user-subject';

/**
 * Candidates ranked beyond the limit, so that inactive and excluded items can be skipped without a
 * second decode; a filter that runs through them all falls back to the full score row.
 */
export const RANKING_MARGIN = 100;
/** Seen items scored one by one to merge them into a ranking of the unseen ones; more are decoded. */
export const MAX_RESCORED_ITEMS = 500;

/** A user's vector and what is known of their items (model indices). */
export interface UserVector {
  vector: Float32Array;
  /** Every item the user has seen; null when that is not known. */
  own: number[] | null;
  /** What the answer leaves out: the seen items, none when they are kept. */
  seen: readonly number[];
  /** What the vector was encoded from: the model's item term adds to its scores from these. */
  encodedFrom: readonly number[] | null;
}

/** A user's answer from their vector (cached or folded in), decoded on the scoring threads: what the decode and fold-in sources share. */
@Injectable()
export class UserRanking {
  constructor(private readonly env: EnvVars) {}

  /**
   * Ranked in the scoring thread to a depth that leaves room for the filter, else (a narrowing
   * filter, or too many candidates inactive or excluded) the full row. `keep` gets, before the
   * answer is built, the list Redis may cache: the version's depth of the ranking of every item
   * the user has not seen, or null when this decode did not give one.
   */
  async rank(
    live: LiveModel,
    ask: Ask<UserSubject>,
    user: UserVector,
    keep: (top: TopItems | null) => void,
  ): Promise<RankedItem[]> {
    const { candidates, limit, subject } = ask;
    const { vector, own, seen, encodedFrom } = user;
    // the version's own depth: every list of a version must mean the same by its length
    const k = live.topItems ?? this.env.CACHED_TOP_ITEMS;
    if (candidates.narrows) {
      const scores = await live.scoring.decode(vector, undefined, encodedFrom);
      keep(own && k > 0 ? rankedItems(scores, k, own) : null);
      return candidates.rank(scores, limit, seen);
    }
    // seen items kept: scored apart and merged into the ranking of the unseen ones, when few
    const merge = !subject.excludeSeen && own && own.length <= MAX_RESCORED_ITEMS ? own : null;
    const depth = Math.max(k, limit + RANKING_MARGIN);
    const ranked = await live.scoring.decode(vector, { k: depth, exclude: merge ?? seen }, encodedFrom);
    keep(
      (subject.excludeSeen || merge) && own && k > 0
        ? { items: ranked.items.subarray(0, k), scores: ranked.scores.subarray(0, k) }
        : null,
    );
    const items = merge
      ? await withOwnItems(live, ask, vector, ranked, depth, merge)
      : candidates.fromList(ranked, depth, limit);
    return items ?? candidates.rank(await live.scoring.decode(vector, undefined, encodedFrom), limit, seen);
  }
}

/**
 * excludeSeen false without decoding for it: the seen items' scores (a few dot products in a
 * scoring thread) merged into a ranking of the unseen ones ranked to `depth` (the cached list, or
 * a decode's). Null when the merged list runs out before `limit` items pass.
 */
export async function withOwnItems(
  live: LiveModel,
  ask: Ask,
  vector: Float32Array,
  unseen: TopItems,
  depth: number,
  own: readonly number[],
): Promise<RankedItem[] | null> {
  // `own` is what the vector was encoded from, the item term's history too
  const merged = withSeenItems(unseen, depth, own, await live.scoring.itemScores(vector, own, own));
  return ask.candidates.fromList(merged, merged.complete ? Infinity : merged.items.length, ask.limit);
}
