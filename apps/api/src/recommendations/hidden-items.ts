import { Inject, Injectable } from '@nestjs/common';
import { FeedbackRulesService } from '../feedback/feedback-rules.service';
import { FeedbackState, FeedbackStates } from '../feedback/feedback-states.service';
import type { LiveModel } from './live-model.service';
import type { AskOptions } from './sources';
import { UserSubjects } from './sources/user-subject';

/** One reason to keep items from a user (their negative feedback, items shown too often): the ids it hides now. */
export interface HiddenItemsRule {
  hiddenBy(state: FeedbackState, now: Date): readonly string[];
}

/** Every HiddenItemsRule, each a provider of its own, listed behind this token (see RecommendationsModule). */
export const HIDDEN_ITEMS_RULES = Symbol('HIDDEN_ITEMS_RULES');

/**
 * The items no answer for a user may hold, whatever its path (cached list, decode, fold-in,
 * popularity, a session's or an item's answer asked for them): the union of every rule's, all read
 * from the user's one feedback state.
 */
@Injectable()
export class HiddenItems {
  constructor(
    @Inject(HIDDEN_ITEMS_RULES) private readonly rules: HiddenItemsRule[],
    private readonly users: UserSubjects,
    private readonly states: FeedbackStates,
    private readonly feedbackRules: FeedbackRulesService,
  ) {}

  /**
   * `live`: the model whose embedding of the user the same request reads (one Redis round trip
   * for both); null when the request needs no embedding.
   */
  async hiddenFor(live: LiveModel | null, userId: string, now: Date): Promise<readonly string[]> {
    // undefined: Redis is down, so nothing is known there and nothing is written back
    const [cached, rules] = await Promise.all([
      this.users.stateOf(live, userId).then(
        (s) => s.feedback,
        () => undefined,
      ),
      this.feedbackRules.current().catch(() => null),
    ]);
    const state = await this.states.of(userId, cached, rules?.revision ?? null, now);
    const lists = this.rules.map((rule) => rule.hiddenBy(state, now)).filter((l) => l.length > 0);
    if (lists.length <= 1) return lists[0] ?? [];
    return [...new Set(lists.flat())];
  }
}

/** A request's options with a user's hidden items among its exclusions. */
export function withHidden(options: AskOptions, hidden: readonly string[]): AskOptions {
  if (hidden.length === 0) return options;
  return { ...options, exclude: options.exclude?.length ? [...options.exclude, ...hidden] : hidden };
}
