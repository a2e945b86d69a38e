import { FeedbackRole, FeedbackRules } from './roles';
import { InputSettings, inputValue } from './training-input';

/** A user's events of one item, type and value: the newest of them is all a reader needs. */
export interface EventGroup {
  item: string;
  type: string;
  /** The events' weight (a rating, a watched fraction...). */
  value: number;
  /** The newest such event. */
  newest: Date;
}

/** What a user's events mean under the rules, as training and fold-in read them. */
export interface UserFeedback {
  /** Items with input (POSITIVE within the retention window), and what each puts in: the largest of its events' values. */
  input: Map<string, number>;
  /** Newest event of any role: what an embedding must include to be current. */
  newest: Date | null;
  /** Items the user gave a NEGATIVE event that no later POSITIVE event lifted: never recommended to them. */
  hidden: string[];
  /** Each item's newest POSITIVE event (ms): exposure counts the shows after it. */
  lastPositive: Map<string, number>;
}

/** The one reading of a user's events, for every request that needs their history. */
export function userFeedback(
  groups: readonly EventGroup[],
  rules: FeedbackRules,
  settings: InputSettings,
  nowMs: number,
): UserFeedback {
  const input = new Map<string, number>();
  const lastPositive = new Map<string, number>();
  const lastNegative = new Map<string, number>();
  let newest: Date | null = null;
  for (const g of groups) {
    if (!newest || g.newest > newest) newest = g.newest;
    const at = g.newest.getTime();
    const rule = rules.ruleOf(g.type);
    const role = rules.roleOf(g.type, g.value);
    if (role === FeedbackRole.NEGATIVE) latest(lastNegative, g.item, at);
    if (role !== FeedbackRole.POSITIVE) continue;
    latest(lastPositive, g.item, at);
    // duplicates take the largest value, as the training matrix does
    const v = inputValue(rule, g.value, at, nowMs, settings);
    if (v !== null && !(v <= (input.get(g.item) ?? -Infinity))) input.set(g.item, v);
  }
  const hidden: string[] = [];
  // a POSITIVE event at the same instant does not lift: it must come after
  for (const [item, at] of lastNegative) if (!((lastPositive.get(item) ?? -Infinity) > at)) hidden.push(item);
  return { input, newest, hidden, lastPositive };
}

function latest(map: Map<string, number>, item: string, at: number): void {
  if (!((map.get(item) ?? -Infinity) >= at)) map.set(item, at);
}
