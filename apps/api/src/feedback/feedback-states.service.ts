import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { ErasureRepository, ImpressionRepository } from '@app/database';
import { CachedFeedback, EmbeddingStoreRepository } from '@app/embedding-store';
import { ExposedItem, exposedItems, ExposurePolicy, NO_DECAY, policySignature } from '@app/feedback';
import { ImpressionBuffer } from './impression-buffer';
import { UserFeedbackReader } from './user-feedback.reader';

const DAY_MS = 86_400_000;

/** What a user's feedback hides from them: their negatives, and the items shown to them too often. */
export interface FeedbackState {
  /** Items their NEGATIVE events hide (no later POSITIVE one lifting it). */
  hidden: readonly string[];
  /** Items the exposure policy hides, with the time each comes back (ms). */
  exposed: readonly ExposedItem[];
}

const NOTHING: FeedbackState = { hidden: [], exposed: [] };

/**
 * A user's feedback state, from Redis while it is current (read with their embedding, one round
 * trip: see UserSubjects), otherwise read from Postgres once (their events under the rules and
 * their recent impressions) and written back for the next request. Recording an event marks it
 * out of date; so does a flush of impressions that may have hidden an item.
 */
@Injectable()
export class FeedbackStates implements OnModuleInit {
  private readonly logger = new Logger(FeedbackStates.name);
  readonly policy: ExposurePolicy;
  private readonly signature: string;

  constructor(
    private readonly store: EmbeddingStoreRepository,
    private readonly reader: UserFeedbackReader,
    private readonly impressions: ImpressionRepository,
    private readonly buffer: ImpressionBuffer,
    private readonly erasures: ErasureRepository,
    env: EnvVars,
  ) {
    this.policy = { maxShows: env.EXPOSURE_MAX_SHOWS, cooldownMs: env.EXPOSURE_COOLDOWN_DAYS * DAY_MS };
    this.signature = policySignature(this.policy);
  }

  onModuleInit(): void {
    this.buffer.onFlush((pairs) => this.refreshExposure(pairs));
  }

  /**
   * The user's state at `now`; `cached`: what Redis holds (null: nothing; undefined: Redis is down,
   * so nothing is written back either).
   */
  async of(
    userId: string,
    cached: CachedFeedback | null | undefined,
    rulesRevision: number | null,
    now: Date,
  ): Promise<FeedbackState> {
    const current = this.current(cached, rulesRevision);
    if (current) return current;
    let state: FeedbackState;
    let revision: number;
    try {
      // what is hidden does not depend on how events age
      const [read, shows] = await Promise.all([
        this.reader.of(userId, NO_DECAY, now.getTime()),
        // a show counts within a cooldown of the last, and the last hides for a cooldown
        this.policy.maxShows > 0
          ? this.impressions.recentOf(userId, new Date(now.getTime() - 2 * this.policy.cooldownMs))
          : Promise.resolve([]),
      ]);
      state = { hidden: read.hidden, exposed: exposedItems(shows, read.lastPositive, this.policy, now.getTime()) };
      revision = read.rulesRevision;
    } catch (err) {
      // Postgres down: what Redis last knew, if anything, rather than no answer
      this.logger.warn(`feedback of ${userId} unavailable: ${(err as Error).message}`);
      return cached ? { hidden: cached.hidden ?? [], exposed: cached.exposed ?? [] } : NOTHING;
    }
    if (cached !== undefined) this.writeBack(userId, cached, state, revision);
    return state;
  }

  /** What Redis holds, while nothing happened since and the rules and policy are the ones it was read under. */
  private current(cached: CachedFeedback | null | undefined, rulesRevision: number | null): FeedbackState | null {
    if (!cached || cached.hidden === null || cached.staleMark !== null || cached.rulesRevision !== rulesRevision)
      return null;
    // with the policy off, what a process with it on wrote is neither needed nor overwritten
    if (this.policy.maxShows === 0) return { hidden: cached.hidden, exposed: [] };
    if (cached.exposed === null || cached.policy !== this.signature) return null;
    return { hidden: cached.hidden, exposed: cached.exposed };
  }

  /** Best effort, after the answer is computed; only over the stale mark this request read. */
  private writeBack(userId: string, cached: CachedFeedback | null, state: FeedbackState, rulesRevision: number): void {
    void this.erasures
      .idHash(userId)
      .then((idHash) =>
        this.store.writeFeedback(userId, idHash, {
          hidden: state.hidden,
          rulesRevision,
          seenMark: cached?.staleMark ?? null,
          exposed: state.exposed,
          // none: the policy is off, and a process with it on keeps what it wrote
          policy: this.policy.maxShows === 0 ? null : this.signature,
        }),
      )
      .catch((err: Error) => this.logger.warn(`could not cache the feedback of ${userId}: ${err.message}`));
  }

  /**
   * After a flush: the users with an item now shown often enough to be hidden (or hidden longer)
   * have their state marked out of date, so their next answer reads it again. Others keep theirs.
   */
  private async refreshExposure(pairs: { userId: string; itemId: string }[]): Promise<void> {
    if (this.policy.maxShows === 0) return;
    const since = new Date(Date.now() - this.policy.cooldownMs);
    const users = await this.impressions.usersShownAtLeast(pairs, this.policy.maxShows, since);
    if (users.length) await this.store.markFeedbackStale(users);
  }
}
