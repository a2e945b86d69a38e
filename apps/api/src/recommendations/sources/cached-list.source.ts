import { Injectable } from '@nestjs/common';
import { RecommendationSource } from '../models/recommendations.model';
import { Ask, Source, SourceAnswer } from './source';
import { MAX_RESCORED_ITEMS, withOwnItems } from './user-ranking';
import { UserSubject } from './user-subject';

/**
 * The user's precomputed top items: ranked at publish, or written back by an earlier answer. Most
 * requests end here, with the one Redis read that came with the request and no decode. Seen
 * items kept: the user's own items, when few, are scored apart and merged in. Null when the list
 * cannot answer: none, a stale embedding, or fewer than the limit pass the filter.
 */
@Injectable()
export class CachedListSource implements Source<UserSubject> {
  async answer(ask: Ask<UserSubject>): Promise<SourceAnswer | null> {
    const { live, subject, candidates, limit } = ask;
    const current = subject.current;
    if (!live || !current?.top) return null;
    if (subject.excludeSeen) {
      // without the depth the list was ranked to, a short list may have been cut, not exhausted:
      // none counts as complete (a depth of 0), and one the filter runs through is decoded
      const items = candidates.fromList(current.top, live.topItems ?? 0, limit);
      return items && { items, source: RecommendationSource.EMBEDDING };
    }
    // what the embedding was encoded from: the user's seen items while it is current
    const own = current.seen;
    if (candidates.narrows || live.topItems === null || !own || own.length > MAX_RESCORED_ITEMS) return null;
    const items = await withOwnItems(live, ask, current.vector, current.top, live.topItems, own);
    return items && { items, source: RecommendationSource.EMBEDDING };
  }
}
