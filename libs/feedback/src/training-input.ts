import { FeedbackRole, FeedbackTypeRule, roleOf, UNDECLARED_RULE } from './roles';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How the age of a POSITIVE event changes what it counts: the same for a training and its fold-ins. */
export interface InputSettings {
  /** A POSITIVE event's value halves every this many days (null: no decay). */
  halfLifeDays: number | null;
  /** Events older than this many days are no input (null: all are). */
  retentionDays: number | null;
}

export const NO_DECAY: InputSettings = { halfLifeDays: null, retentionDays: null };

/** The settings a process is configured with (FEEDBACK_HALF_LIFE_DAYS, FEEDBACK_RETENTION_DAYS). */
export function inputSettingsOf(env: {
  FEEDBACK_HALF_LIFE_DAYS?: number;
  FEEDBACK_RETENTION_DAYS?: number;
}): InputSettings {
  return { halfLifeDays: env.FEEDBACK_HALF_LIFE_DAYS ?? null, retentionDays: env.FEEDBACK_RETENTION_DAYS ?? null };
}

/**
 * What an event puts in the model's input: null when it is no input (not POSITIVE, or older than
 * the retention window), else its type's weight times its own, halved every half-life of age.
 * The binary input counts any value above 0 as 1, so only the weighted input sees weights and decay.
 */
export function inputValue(
  rule: Omit<FeedbackTypeRule, 'type'> | undefined,
  value: number,
  occurredMs: number,
  nowMs: number,
  settings: InputSettings,
): number | null {
  if (roleOf(rule, value) !== FeedbackRole.POSITIVE) return null;
  const age = Math.max(0, nowMs - occurredMs);
  if (settings.retentionDays !== null && age > settings.retentionDays * DAY_MS) return null;
  const weighted = (rule ?? UNDECLARED_RULE).weight * value;
  return settings.halfLifeDays === null ? weighted : weighted * 2 ** -(age / (settings.halfLifeDays * DAY_MS));
}

/** The oldest time an input event may have (the retention window's start), or null without one. */
export function retentionStart(nowMs: number, settings: InputSettings): Date | null {
  return settings.retentionDays === null ? null : new Date(nowMs - settings.retentionDays * DAY_MS);
}
