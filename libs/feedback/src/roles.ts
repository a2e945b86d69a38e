// What an event means to recoder, decided by its type's rule and the event's value (its `weight`).
// Every reader (training input, fold-in, seen items, popularity, history, hidden items) asks
// roleOf: the one place an event's meaning is decided.

// keys equal values: GraphQL shows the keys
export enum FeedbackRole {
  /** More like this: training input, seen, popularity. */
  POSITIVE = 'POSITIVE',
  /** Not this: hidden from the user until a later POSITIVE event on the item. */
  NEGATIVE = 'NEGATIVE',
  /** The item was shown: not a positive. */
  IMPRESSION = 'IMPRESSION',
  /** Stored and listed in the history, read by nothing else. */
  IGNORED = 'IGNORED',
}

export const FEEDBACK_ROLES: readonly FeedbackRole[] = Object.values(FeedbackRole);

/** Within [min, max] (either bound may be absent, not both), the event has `role`. */
export interface ValueCondition {
  role: FeedbackRole;
  min: number | null;
  max: number | null;
}

/** An event type's rule: the first condition its value meets decides the role, else `role`. */
export interface FeedbackTypeRule {
  type: string;
  role: FeedbackRole;
  /** What a POSITIVE event of this type counts in the weighted input, times the event's own weight. */
  weight: number;
  conditions: readonly ValueCondition[];
}

/** A type no rule declares: a positive of weight 1, as every event was before roles existed. */
export const UNDECLARED_RULE: Omit<FeedbackTypeRule, 'type'> = {
  role: FeedbackRole.POSITIVE,
  weight: 1,
  conditions: [],
};

/** The role of an event of this rule's type with this value (the event's weight). */
export function roleOf(rule: Omit<FeedbackTypeRule, 'type'> | undefined, value: number): FeedbackRole {
  if (!rule) return UNDECLARED_RULE.role;
  // compared as Postgres stores weights (float4): a file's 2.1 and the stored 2.1 meet the same bounds
  const v = Math.fround(value);
  for (const c of rule.conditions) {
    if ((c.min === null || v >= Math.fround(c.min)) && (c.max === null || v <= Math.fround(c.max))) return c.role;
  }
  return rule.role;
}

/** Whether the role may depend on the value: readers that group events may then not merge values. */
export const dependsOnValue = (rule: Omit<FeedbackTypeRule, 'type'> | undefined): boolean =>
  !!rule && rule.conditions.length > 0;

/** Every rule of a moment, by type, and the revision that names them (it grows with every change). */
export class FeedbackRules {
  private readonly byType: ReadonlyMap<string, FeedbackTypeRule>;

  constructor(
    readonly list: readonly FeedbackTypeRule[],
    readonly revision: number,
  ) {
    this.byType = new Map(list.map((r) => [r.type, r]));
  }

  static readonly NONE = new FeedbackRules([], 0);

  ruleOf(type: string): FeedbackTypeRule | undefined {
    return this.byType.get(type);
  }

  declares(type: string): boolean {
    return this.byType.has(type);
  }

  roleOf(type: string, value: number): FeedbackRole {
    return roleOf(this.byType.get(type), value);
  }

  /** Types whose role depends on the event's value. */
  valueDependentTypes(): string[] {
    return this.list.filter(dependsOnValue).map((r) => r.type);
  }
}
