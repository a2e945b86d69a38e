import { Injectable, Logger } from '@nestjs/common';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { indicesOf } from '../live-model.service';
import { RecommendationSource } from '../models/recommendations.model';
import { Ask, Source, SourceAnswer } from './source';
import { UserRanking } from './user-ranking';
import { UserSubject } from './user-subject';

/**
 * The cached embedding decoded on the scoring threads, where its list could not answer (none,
 * too short for the limit or the filter, seen items kept beyond a few) or, with Postgres down,
 * while it is stale. A list the embedding lacked is written back for the next request.
 */
@Injectable()
export class DecodeSource implements Source<UserSubject> {
  private readonly logger = new Logger(DecodeSource.name);

  constructor(
    private readonly ranking: UserRanking,
    private readonly store: EmbeddingStoreRepository,
  ) {}

  async answer(ask: Ask<UserSubject>): Promise<SourceAnswer | null> {
    const { live, subject } = ask;
    const cached = subject.cached;
    if (!live || !cached || !(await subject.servesCached(live))) return null;
    const history = await subject.neededHistory();
    // every item the user has seen, or null when that is not known
    const own = history ? indicesOf(live, history.items) : (subject.current?.seen ?? null);
    // with Postgres down, a stale embedding's items are the best guess of what was seen
    const seen = subject.excludeSeen ? (own ?? cached.seen ?? []) : [];
    const user = { vector: cached.vector, own, seen, encodedFrom: own ?? cached.seen };
    const items = await this.ranking.rank(live, ask, user, (top) => {
      if (!top || cached.top) return;
      void this.store
        .writeTop(live.version, subject.userId, top)
        .catch((err: Error) => this.logger.warn(`could not cache ${subject.userId}: ${err.message}`));
    });
    return { items, source: RecommendationSource.EMBEDDING };
  }
}
