// The exposure policy: an item shown to a user `maxShows` times with no POSITIVE event from them
// since is hidden from them until `cooldownMs` after it was last shown. Then it comes back with a
// fresh count: only shows within a cooldown of the last one count.

export interface ExposurePolicy {
  /** 0: the policy is off. */
  maxShows: number;
  cooldownMs: number;
}

/** A user's impressions of one item over a stretch of time (a week's roll-up). */
export interface ShowsOfItem {
  item: string;
  shows: number;
  firstShown: Date;
  lastShown: Date;
}

/** An item hidden by exposure, and until when (ms). */
export type ExposedItem = [item: string, until: number];

/** The policy's signature: a state computed under another policy is computed again. */
export const policySignature = (policy: ExposurePolicy): string => `${policy.maxShows}:${policy.cooldownMs}`;

/**
 * The items the policy hides at `nowMs`, with the time each comes back. `lastPositive`: each item's
 * newest POSITIVE event from the user (ms). A roll-up that straddles the moment counting starts
 * counts once (its shows before that moment are not told apart from those after).
 */
export function exposedItems(
  shows: readonly ShowsOfItem[],
  lastPositive: ReadonlyMap<string, number>,
  policy: ExposurePolicy,
  nowMs: number,
): ExposedItem[] {
  if (policy.maxShows === 0) return [];
  const byItem = new Map<string, ShowsOfItem[]>();
  for (const s of shows) {
    const rows = byItem.get(s.item);
    if (rows) rows.push(s);
    else byItem.set(s.item, [s]);
  }
  const out: ExposedItem[] = [];
  for (const [item, rows] of byItem) {
    const positive = lastPositive.get(item) ?? -Infinity;
    let last = -Infinity;
    for (const r of rows) if (r.lastShown.getTime() > positive) last = Math.max(last, r.lastShown.getTime());
    const until = last + policy.cooldownMs;
    if (!(until > nowMs)) continue;
    // shows since the last POSITIVE event, within a cooldown of the last show
    const since = Math.max(positive, last - policy.cooldownMs);
    let count = 0;
    for (const r of rows) {
      if (r.lastShown.getTime() <= since) continue;
      count += r.firstShown.getTime() > since ? r.shows : 1;
    }
    if (count >= policy.maxShows) out.push([item, until]);
  }
  return out;
}

/** Of a stored list, the items still hidden at `nowMs`. */
export const stillExposed = (exposed: readonly ExposedItem[], nowMs: number): string[] =>
  exposed.filter(([, until]) => until > nowMs).map(([item]) => item);
