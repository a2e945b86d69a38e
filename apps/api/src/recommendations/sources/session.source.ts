import { Injectable } from '@nestjs/common';
import { indicesOf } from '../live-model.service';
import { RecommendationSource } from '../models/recommendations.model';
import { Ask, Source, SourceAnswer, Subject } from './source';
import { RANKING_MARGIN } from './user-ranking';

/** An anonymous session: the items it holds, which its answer leaves out. */
export class SessionSubject implements Subject {
  constructor(readonly itemIds: readonly string[]) {}

  excludedIds(): Promise<readonly string[]> {
    return Promise.resolve(this.itemIds);
  }
}

/**
 * A session's items folded in as an ad hoc history, encoded and decoded in one pass on the
 * scoring threads. Null when the model knows none of them.
 */
@Injectable()
export class SessionSource implements Source<SessionSubject> {
  async answer({ live, subject, candidates, limit }: Ask<SessionSubject>): Promise<SourceAnswer | null> {
    const indices = live ? indicesOf(live, subject.itemIds) : [];
    if (!live || indices.length === 0) return null;
    if (!candidates.narrows) {
      const depth = limit + RANKING_MARGIN;
      const items = candidates.fromList(
        await live.scoring.foldIn(indices, { k: depth, exclude: indices }),
        depth,
        limit,
      );
      if (items) return { items, source: RecommendationSource.FOLD_IN };
    }
    return {
      items: candidates.rank(await live.scoring.foldIn(indices), limit, indices),
      source: RecommendationSource.FOLD_IN,
    };
  }
}
