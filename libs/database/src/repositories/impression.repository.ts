import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ADVISORY_LOCK } from './advisory-locks';

/** A user's impressions of an item in one week, summed. */
export interface ImpressionRollup {
  userId: string;
  itemId: string;
  /** The week's Monday (UTC), YYYY-MM-DD. */
  week: string;
  shows: number;
  firstShown: Date;
  lastShown: Date;
}

/** One user's roll-ups of one item as exposure reads them. */
export interface ItemShows {
  item: string;
  shows: number;
  firstShown: Date;
  lastShown: Date;
}

const DAY_MS = 86_400_000;
/** Postgres: no partition of the table holds the row. */
const NO_PARTITION = '23514';

/** The Monday (UTC) of the week `at` falls in, YYYY-MM-DD: the roll-up's week. */
export function weekOf(at: Date): string {
  const day = Math.floor(at.getTime() / DAY_MS);
  // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday
  const monday = day - ((day + 3) % 7);
  return new Date(monday * DAY_MS).toISOString().slice(0, 10);
}

/** The partition a week's rows go to: one a month, named by the month its weeks begin in. */
const partitionOf = (week: string): string => `impressions_p${week.slice(0, 4)}${week.slice(5, 7)}`;
const PARTITION_NAME = /^impressions_p(\d{4})(\d{2})$/;

function monthBounds(year: number, month: number): { from: string; to: string } {
  const from = new Date(Date.UTC(year, month - 1, 1));
  const to = new Date(Date.UTC(year, month, 1));
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

/**
 * The impressions table (migrations/1765410000000-Impressions.ts): batched upserts of roll-ups,
 * its monthly partitions, and a user's recent roll-ups for the exposure policy.
 */
@Injectable()
export class ImpressionRepository {
  /** Partitions this process knows exist: creating one is asked of Postgres once. */
  private readonly known = new Set<string>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Adds the roll-ups to the stored ones in one statement (shows summed, first and last widened);
   * users not yet known are created, as recording an event creates them. Rows of an item Postgres
   * does not know are dropped.
   */
  async add(rows: readonly ImpressionRollup[]): Promise<void> {
    if (rows.length === 0) return;
    await this.ensurePartitions([...new Set(rows.map((r) => r.week))]);
    await this.upsert(rows).catch((err: { code?: string }) => {
      // a partition another process dropped: asked of Postgres again next time
      if (err.code === NO_PARTITION) this.known.clear();
      throw err;
    });
  }

  private async upsert(rows: readonly ImpressionRollup[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      // sorted, so concurrent flushes lock new keys in the same order and cannot deadlock
      const users = [...new Set(rows.map((r) => r.userId))].sort();
      await tx.query(`INSERT INTO users (external_id) SELECT unnest($1::text[]) ON CONFLICT (external_id) DO NOTHING`, [
        users,
      ]);
      // arrays in, one statement; sorted by key so two flushes' row locks are taken in one order
      await tx.query(
        `INSERT INTO impressions AS x (user_id, item_id, week, shows, first_shown, last_shown)
         SELECT u.id, i.id, t.week, t.shows, t.first_shown, t.last_shown
         FROM unnest($1::text[], $2::text[], $3::date[], $4::int[], $5::timestamptz[], $6::timestamptz[])
              AS t(user_ext, item_ext, week, shows, first_shown, last_shown)
         JOIN users u ON u.external_id = t.user_ext
         JOIN items i ON i.external_id = t.item_ext
         ORDER BY u.id, i.id, t.week
         ON CONFLICT (user_id, item_id, week) DO UPDATE SET
           shows = x.shows + excluded.shows,
           first_shown = least(x.first_shown, excluded.first_shown),
           last_shown = greatest(x.last_shown, excluded.last_shown)`,
        [
          rows.map((r) => r.userId),
          rows.map((r) => r.itemId),
          rows.map((r) => r.week),
          rows.map((r) => r.shows),
          rows.map((r) => r.firstShown),
          rows.map((r) => r.lastShown),
        ],
      );
    });
  }

  /** Creates the partitions of these weeks' months where missing. */
  async ensurePartitions(weeks: readonly string[]): Promise<void> {
    const missing = [...new Set(weeks.map(partitionOf))].filter((name) => !this.known.has(name));
    if (missing.length === 0) return;
    await this.db.transaction(async (tx) => {
      // one process at a time: two CREATE ... IF NOT EXISTS at once can still collide
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.impressionPartitions]);
      for (const name of missing) {
        const [, year, month] = PARTITION_NAME.exec(name)!;
        const { from, to } = monthBounds(Number(year), Number(month));
        await tx.query(
          `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF impressions FOR VALUES FROM ('${from}') TO ('${to}')`,
        );
      }
    });
    missing.forEach((name) => this.known.add(name));
  }

  /** Drops the partitions whose every week began before `cutoff`; returns their names. */
  async dropBefore(cutoff: Date): Promise<string[]> {
    const limit = weekOf(cutoff);
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.impressionPartitions]);
      const rows: { name: string }[] = await tx.query(
        `SELECT c.relname AS name FROM pg_inherits h
         JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_class p ON p.oid = h.inhparent
         WHERE p.relname = 'impressions'`,
      );
      const dropped: string[] = [];
      for (const { name } of rows) {
        const match = PARTITION_NAME.exec(name);
        if (!match || monthBounds(Number(match[1]), Number(match[2])).to > limit) continue;
        await tx.query(`DROP TABLE ${name}`);
        this.known.delete(name);
        dropped.push(name);
      }
      return dropped;
    });
  }

  /** A user's roll-ups last shown after `since`, by item (weeks summed, first and last widened). */
  async recentOf(externalUserId: string, since: Date): Promise<ItemShows[]> {
    const rows: { item: string; shows: number; first_shown: Date; last_shown: Date }[] = await this.db.query(
      `SELECT i.external_id AS item, x.shows, x.first_shown, x.last_shown
       FROM users u JOIN impressions x ON x.user_id = u.id JOIN items i ON i.id = x.item_id
       WHERE u.external_id = $1 AND x.week >= $2::date AND x.last_shown > $3`,
      [externalUserId, weekOf(since), since],
    );
    return rows.map((r) => ({ item: r.item, shows: r.shows, firstShown: r.first_shown, lastShown: r.last_shown }));
  }

  /**
   * Of these users and items, those shown at least `shows` times since `since` (summed over weeks):
   * the users whose exposed items a flush may have changed.
   */
  async usersShownAtLeast(
    pairs: readonly { userId: string; itemId: string }[],
    shows: number,
    since: Date,
  ): Promise<string[]> {
    if (pairs.length === 0) return [];
    const rows: { user: string }[] = await this.db.query(
      `SELECT DISTINCT t.user_ext AS user
       FROM unnest($1::text[], $2::text[]) AS t(user_ext, item_ext)
       JOIN users u ON u.external_id = t.user_ext
       JOIN items i ON i.external_id = t.item_ext
       JOIN impressions x ON x.user_id = u.id AND x.item_id = i.id AND x.week >= $3::date AND x.last_shown > $4
       GROUP BY t.user_ext, t.item_ext
       HAVING sum(x.shows) >= $5`,
      [pairs.map((p) => p.userId), pairs.map((p) => p.itemId), weekOf(since), since, shows],
    );
    return rows.map((r) => r.user);
  }
}
