import { Injectable, Logger } from '@nestjs/common';
import { ErasureRepository } from '@app/database';
import { EmbeddingStoreRepository, TopItems } from '@app/embedding-store';
import { rowsFromItemLists } from '@app/model';
import { LiveModel } from '../live-model.service';
import { RecommendationSource } from '../models/recommendations.model';
import { Ask, Source, SourceAnswer } from './source';
import { UserRanking, UserVector } from './user-ranking';
import { History, UserSubject } from './user-subject';

/** A history encoded now: the vector, the items it came from, and the history it was read from. */
export interface FoldedIn extends UserVector {
  own: number[];
  history: History;
}

/**
 * The user's history encoded now (the encoder runs on this thread: a sparse product, cheap) and
 * decoded on the scoring threads, when the cached embedding is stale or missing. The fold-in is
 * written through to Redis, so the next request reads it from the cache.
 */
@Injectable()
export class FoldInSource implements Source<UserSubject> {
  private readonly logger = new Logger(FoldInSource.name);

  constructor(
    private readonly ranking: UserRanking,
    private readonly store: EmbeddingStoreRepository,
    private readonly erasures: ErasureRepository,
  ) {}

  async answer(ask: Ask<UserSubject>): Promise<SourceAnswer | null> {
    const { live, subject } = ask;
    const folded = live && (await this.foldIn(live, subject));
    if (!live || !folded) return null;
    const items = await this.ranking.rank(live, ask, folded, (top) => this.writeThrough(live, subject, folded, top));
    return { items, source: RecommendationSource.FOLD_IN };
  }

  /** Null while the cached embedding answers, or without a history holding an item the model knows. */
  async foldIn(live: LiveModel, subject: UserSubject): Promise<FoldedIn | null> {
    if (await subject.servesCached(live)) return null;
    const history = await subject.neededHistory();
    if (!history) return null;
    // the items the model knows, with their values: a weighted model encodes them as its training did
    const own: number[] = [];
    const values: number[] = [];
    history.items.forEach((id, k) => {
      const i = live.itemIndex.get(id);
      if (i === undefined) return;
      own.push(i);
      values.push(history.values[k]);
    });
    if (own.length === 0) return null;
    const vector = live.model.encode(rowsFromItemLists(live.itemIds.length, [own], [values]));
    return { vector, own, seen: subject.excludeSeen ? own : [], encodedFrom: own, history };
  }

  /**
   * Keeps Redis ahead of the next request: the vector, the history time it includes, its top items
   * (which leave out every item of the history, or are null) and the items it was encoded from.
   * Best effort, after the answer is computed; only over the stale flag this request read.
   */
  writeThrough(live: LiveModel, subject: UserSubject, folded: FoldedIn, top: TopItems | null): void {
    const fold = {
      vector: folded.vector,
      asOf: folded.history.newest,
      top,
      seenMark: subject.cached?.staleMark ?? null,
      seen: folded.own,
    };
    void this.erasures
      .idHash(subject.userId)
      .then((idHash) => this.store.writeUser(live.version, subject.userId, idHash, fold))
      .catch((err: Error) => this.logger.warn(`could not cache ${subject.userId}: ${err.message}`));
  }
}
