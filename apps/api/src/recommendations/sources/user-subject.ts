import { Injectable, Logger } from '@nestjs/common';
import { CachedUser, CachedUserState, EmbeddingStoreRepository } from '@app/embedding-store';
import { NO_DECAY } from '@app/feedback';
import { UserFeedbackReader } from '../../feedback/user-feedback.reader';
import { LiveModel } from '../live-model.service';
import { TickBatcher } from '../tick-batcher';
import { Subject } from './source';

/**
 * The user's history as Postgres has it, read under the feedback rules: the items that are their
 * input (POSITIVE events within the model's retention window: their seen items), each one's value
 * in the input, and their newest event of any role.
 */
export interface History {
  items: string[];
  /** Parallel to `items`: what each puts in the model's input (the weighted input reads it). */
  values: number[];
  newest: Date | null;
}

/**
 * What one request knows of a user, read once and shared by the sources it asks: the cached
 * embedding (read with the request), and the history from Postgres when a source needs it.
 */
export class UserSubject implements Subject {
  private read: Promise<History | null> | null = null;

  constructor(
    readonly userId: string,
    /** False: the user's own items may come back (repeat purchases, re-watches). */
    readonly excludeSeen: boolean,
    /** The version's cached embedding; null: none, no model, or Redis down. */
    readonly cached: CachedUser | null,
    private readonly readHistory: () => Promise<History | null>,
  ) {}

  /**
   * The cached embedding while nothing was recorded against it since (recordInteractions flags it
   * stale before it returns): then the items it was encoded from are the user's seen items.
   */
  get current(): CachedUser | null {
    return this.cached && !this.cached.stale ? this.cached : null;
  }

  /** The history, read at most once per request; null when Postgres is down. */
  history(): Promise<History | null> {
    return (this.read ??= this.readHistory());
  }

  /**
   * The history when the answer needs it: not while a current embedding knows the seen items, or
   * they are kept (then null, unread). Postgres is asked only for a stale or missing embedding.
   */
  neededHistory(): Promise<History | null> {
    const current = this.current;
    return current && (!this.excludeSeen || current.seen) ? Promise.resolve(null) : this.history();
  }

  /**
   * Whether the cached embedding answers: it exists and nothing in the history is newer than it,
   * or there is no history to say so (not needed, or Postgres down: then even a stale one serves).
   */
  async servesCached(live: LiveModel): Promise<boolean> {
    const cached = this.cached;
    if (!cached) return false;
    const history = await this.neededHistory();
    if (!history) return true;
    if (cached.stale) return false;
    const asOf = cached.asOf ?? live.watermark;
    return !history.newest || !asOf || history.newest <= asOf;
  }

  async excludedIds(): Promise<readonly string[]> {
    return this.excludeSeen ? ((await this.history())?.items ?? []) : [];
  }
}

/**
 * Makes each request's UserSubject. What a request reads of a user in Redis (their cached
 * embedding and their feedback state) goes out in one pipelined round trip, shared by the users
 * asked for in the same tick.
 */
@Injectable()
export class UserSubjects {
  private readonly logger = new Logger(UserSubjects.name);
  private readonly states: TickBatcher<string, CachedUserState>;

  constructor(
    private readonly store: EmbeddingStoreRepository,
    private readonly feedback: UserFeedbackReader,
  ) {
    this.states = new TickBatcher(async (keys: string[]) => {
      // one pipeline for every version asked for (one, but for a request around a switch)
      const byVersion = new Map<string, string[]>();
      for (const key of keys) {
        const version = key.slice(0, key.indexOf(KEY_SEPARATOR));
        byVersion.set(version, [...(byVersion.get(version) ?? []), key]);
      }
      const found = new Map<string, CachedUserState>();
      await Promise.all(
        [...byVersion].map(async ([version, group]) => {
          const ids = group.map((key) => key.slice(key.indexOf(KEY_SEPARATOR) + 1));
          const read = await this.store.readUserStates(version === '' ? null : Number(version), ids);
          group.forEach((key, i) => found.set(key, read[i]));
        }),
      );
      return found;
    }, NO_STATE);
  }

  async of(live: LiveModel | null, userId: string, excludeSeen: boolean): Promise<UserSubject> {
    // Redis down: no cache (a source folds the user in from Postgres)
    const cached = live
      ? await this.stateOf(live, userId).then(
          (s) => s.user,
          () => null,
        )
      : null;
    return new UserSubject(userId, excludeSeen, cached, () => this.history(live, userId));
  }

  /**
   * The user's embedding in `live` (none when null) and feedback state, as Redis holds them: asked
   * for in the same tick (a request's subject and its hidden items), they are one read. Rejects
   * while Redis is down.
   */
  stateOf(live: LiveModel | null, userId: string): Promise<CachedUserState> {
    return this.states.get(`${live?.version ?? ''}${KEY_SEPARATOR}${userId}`);
  }

  private async history(live: LiveModel | null, userId: string): Promise<History | null> {
    try {
      // aged as the live model's training aged events
      const { input, newest } = await this.feedback.of(userId, live?.input ?? NO_DECAY);
      return { items: [...input.keys()], values: [...input.values()], newest };
    } catch (err) {
      this.logger.warn(`history of ${userId} unavailable, serving from cache: ${(err as Error).message}`);
      return null;
    }
  }
}

const KEY_SEPARATOR = '\u0000';
const NO_STATE: CachedUserState = { user: null, feedback: null };
