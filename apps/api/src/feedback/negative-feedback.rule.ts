import { Injectable, Logger } from '@nestjs/common';
import { ErasureRepository } from '@app/database';
import { CachedFeedback, EmbeddingStoreRepository } from '@app/embedding-store';
import { NO_DECAY } from '@app/feedback';
import { HiddenItemsRule } from '../recommendations/hidden-items';
import { TickBatcher } from '../recommendations/tick-batcher';
import { FeedbackRulesService } from './feedback-rules.service';
import { UserFeedbackReader } from './user-feedback.reader';

/**
 * Items a user gave a NEGATIVE event (no later POSITIVE one lifting it): never recommended to
 * them. Read from the user's feedback state in Redis (the requests of a tick share one round
 * trip), which recording an event marks out of date; then, or under other rules, the history is
 * read from Postgres once and the state written back for the next request.
 */
@Injectable()
export class NegativeFeedbackRule implements HiddenItemsRule {
  private readonly logger = new Logger(NegativeFeedbackRule.name);
  private readonly states: TickBatcher<string, CachedFeedback | null>;

  constructor(
    private readonly store: EmbeddingStoreRepository,
    private readonly reader: UserFeedbackReader,
    private readonly rules: FeedbackRulesService,
    private readonly erasures: ErasureRepository,
  ) {
    this.states = new TickBatcher(async (ids) => {
      const states = await this.store.readFeedback(ids);
      return new Map(ids.map((id, i) => [id, states[i]]));
    }, null);
  }

  async hiddenFor(userId: string, now: Date): Promise<readonly string[]> {
    // undefined: Redis is down, so nothing is known there and nothing is written back
    const [cached, rules] = await Promise.all([
      this.states.get(userId).catch(() => undefined),
      this.rules.current().catch(() => null),
    ]);
    if (cached?.hidden && cached.staleMark === null && cached.rulesRevision === rules?.revision) return cached.hidden;
    let read;
    try {
      // what is hidden does not depend on how events age
      read = await this.reader.of(userId, NO_DECAY, now.getTime());
    } catch (err) {
      // Postgres down: what Redis last knew, if anything, rather than no answer
      this.logger.warn(`negative feedback of ${userId} unavailable: ${(err as Error).message}`);
      return cached?.hidden ?? [];
    }
    if (cached !== undefined) this.writeBack(userId, cached, read.hidden, read.rulesRevision);
    return read.hidden;
  }

  /** Best effort, after the answer is computed; only over the stale mark this request read. */
  private writeBack(userId: string, cached: CachedFeedback | null, hidden: string[], rulesRevision: number): void {
    void this.erasures
      .idHash(userId)
      .then((idHash) =>
        this.store.writeFeedback(userId, idHash, { hidden, rulesRevision, seenMark: cached?.staleMark ?? null }),
      )
      .catch((err: Error) => this.logger.warn(`could not cache the feedback of ${userId}: ${err.message}`));
  }
}
