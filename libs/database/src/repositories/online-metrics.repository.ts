import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { weekOf } from './impression.repository';

/** One counter of the roll-up: a version's measure in one hour and unit. */
export interface OnlineCount {
  version: number;
  hour: Date;
  unit: number;
  measure: string;
  count: number;
}

/** A measure of a version summed over a bucket (an hour or a UTC day). */
export interface OnlineBucketCount {
  bucket: Date;
  measure: string;
  count: number;
}

/** A measure of a version summed per unit over a time range. */
export interface OnlineUnitCount {
  unit: number;
  measure: string;
  count: number;
}

/** An event to attribute by an earlier impression: its user, item and when it happened. */
export interface ShownBefore {
  userId: string;
  itemId: string;
  at: Date;
}

/**
 * The online_metrics roll-up (migrations/1765420000000-OnlineMetrics.ts): batched upserts, and
 * reads bounded by version and hour range (the primary key's prefix), never over raw events.
 */
@Injectable()
export class OnlineMetricsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Adds the counts to the stored ones in one statement. */
  async add(rows: readonly OnlineCount[]): Promise<void> {
    if (rows.length === 0) return;
    // sorted by key so two processes' flushes lock rows in one order and cannot deadlock
    const sorted = [...rows].sort(
      (a, b) =>
        a.version - b.version ||
        a.hour.getTime() - b.hour.getTime() ||
        a.unit - b.unit ||
        (a.measure < b.measure ? -1 : a.measure > b.measure ? 1 : 0),
    );
    await this.db.query(
      `INSERT INTO online_metrics AS m (model_version, hour, unit, measure, count)
       SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::smallint[], $4::text[], $5::bigint[])
       ON CONFLICT (model_version, hour, unit, measure) DO UPDATE SET count = m.count + excluded.count`,
      [
        sorted.map((r) => r.version),
        sorted.map((r) => r.hour),
        sorted.map((r) => r.unit),
        sorted.map((r) => r.measure),
        sorted.map((r) => r.count),
      ],
    );
  }

  /** A version's measures per hour or UTC day in [from, to). */
  async byBucket(version: number, from: Date, to: Date, bucket: 'hour' | 'day'): Promise<OnlineBucketCount[]> {
    const rows: { bucket: Date; measure: string; count: string }[] = await this.db.query(
      `SELECT date_trunc($4, hour, 'UTC') AS bucket, measure, sum(count)::text AS count
       FROM online_metrics WHERE model_version = $1 AND hour >= $2 AND hour < $3
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [version, from, to, bucket],
    );
    return rows.map((r) => ({ bucket: r.bucket, measure: r.measure, count: Number(r.count) }));
  }

  /** A version's measures per unit in [from, to): the clusters of a CTR's standard error. */
  async byUnit(version: number, from: Date, to: Date): Promise<OnlineUnitCount[]> {
    const rows: { unit: number; measure: string; count: string }[] = await this.db.query(
      `SELECT unit, measure, sum(count)::text AS count
       FROM online_metrics WHERE model_version = $1 AND hour >= $2 AND hour < $3
       GROUP BY 1, 2`,
      [version, from, to],
    );
    return rows.map((r) => ({ unit: r.unit, measure: r.measure, count: Number(r.count) }));
  }

  /**
   * For each event, whether its user may have been shown its item within `windowMs` before it: a
   * roll-up of the pair (by the impressions' primary key, this week and the window's first) first
   * shown no later than the event and last shown no earlier than the window's start. A week's
   * roll-up keeps only its first and last show, so a show before the window followed by one after
   * the event counts too.
   */
  async shownWithin(events: readonly ShownBefore[], windowMs: number): Promise<boolean[]> {
    if (events.length === 0) return [];
    const rows: { n: number }[] = await this.db.query(
      `SELECT t.n FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::date[], $5::date[])
                     WITH ORDINALITY AS t(user_ext, item_ext, at, week_from, week_to, n)
       JOIN users u ON u.external_id = t.user_ext
       JOIN items i ON i.external_id = t.item_ext
       WHERE EXISTS (
         SELECT 1 FROM impressions x
         WHERE x.user_id = u.id AND x.item_id = i.id AND x.week BETWEEN t.week_from AND t.week_to
           AND x.first_shown <= t.at AND x.last_shown >= t.at - make_interval(secs => $6::float8 / 1000))`,
      [
        events.map((e) => e.userId),
        events.map((e) => e.itemId),
        events.map((e) => e.at),
        events.map((e) => weekOf(new Date(e.at.getTime() - windowMs))),
        events.map((e) => weekOf(e.at)),
        windowMs,
      ],
    );
    const shown = new Set(rows.map((r) => Number(r.n) - 1));
    return events.map((_, i) => shown.has(i));
  }
}
