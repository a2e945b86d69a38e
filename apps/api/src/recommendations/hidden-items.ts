import { Inject, Injectable } from '@nestjs/common';
import type { AskOptions } from './sources';

/** One reason to keep items from a user (their negative feedback, items shown too often): the ids it hides now. */
export interface HiddenItemsRule {
  hiddenFor(userId: string, now: Date): Promise<readonly string[]>;
}

/** Every HiddenItemsRule, each a provider of its own, listed behind this token (see RecommendationsModule). */
export const HIDDEN_ITEMS_RULES = Symbol('HIDDEN_ITEMS_RULES');

/**
 * The items no answer for a user may hold, whatever its path (cached list, decode, fold-in,
 * popularity, a session's or an item's answer asked for them): the union of every rule's.
 */
@Injectable()
export class HiddenItems {
  constructor(@Inject(HIDDEN_ITEMS_RULES) private readonly rules: HiddenItemsRule[]) {}

  async hiddenFor(userId: string, now: Date): Promise<readonly string[]> {
    const lists = await Promise.all(this.rules.map((rule) => rule.hiddenFor(userId, now)));
    if (lists.length === 1) return lists[0];
    return [...new Set(lists.flat())];
  }
}

/** A request's options with a user's hidden items among its exclusions. */
export function withHidden(options: AskOptions, hidden: readonly string[]): AskOptions {
  if (hidden.length === 0) return options;
  return { ...options, exclude: options.exclude?.length ? [...options.exclude, ...hidden] : hidden };
}
