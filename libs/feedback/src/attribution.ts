import { createHash } from 'node:crypto';
import { RecommendationClaims } from './recommendation-id';

// Online metrics are counted per model version, hour and unit: a hash of the user into a few
// groups. A user's answers, impressions and events all fall in one unit, so units are independent
// clusters for a CTR's standard error (armCtr with units in place of users), and no stored row
// names a user.

/** How many units users are hashed into: enough clusters for a stable standard error, few rows an hour. */
export const METRIC_UNITS = 64;
const HOUR_MS = 3_600_000;
/** The version stored for answers that no model scored (popularity). */
export const NO_MODEL_VERSION = 0;

/** The unit of a user (or of an anonymous answer, by its id). */
export function metricUnit(key: string): number {
  return createHash('sha256').update(key).digest().readUInt16BE(0) % METRIC_UNITS;
}

/** The start of the UTC hour `at` falls in. */
export function hourOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * An event that names its answer is attributed to the answer's version when the answer was for
 * the event's user (or for no user) and held the event's item; null otherwise.
 */
export function attributedVersion(claims: RecommendationClaims, userId: string, itemId: string): number | null {
  if (claims.userId !== null && claims.userId !== userId) return null;
  if (!claims.items.has(itemId)) return null;
  return claims.modelVersion ?? NO_MODEL_VERSION;
}

/** A measure's name in the roll-up. */
export const Measure = {
  answers: 'answers',
  impressions: 'impressions',
  positive: (type: string) => `positive:${type}`,
} as const;

/** The event type of a positive measure; null for answers and impressions. */
export function positiveType(measure: string): string | null {
  return measure.startsWith('positive:') ? measure.slice('positive:'.length) : null;
}
