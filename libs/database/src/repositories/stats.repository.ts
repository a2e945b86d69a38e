import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface HourCount {
  hour: Date;
  interactions: number;
}

export interface StoreStats {
  users: number;
  items: number;
  interactions: number;
  newestInteractionAt: Date | null;
}

@Injectable()
export class StatsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async storeStats(): Promise<StoreStats> {
    const [row] = await this.db.query<StoreStats[]>(
      `SELECT (SELECT count(*) FROM users)::float8 AS users,
              (SELECT count(*) FROM items)::float8 AS items,
              (SELECT count(*) FROM interactions)::float8 AS interactions,
              (SELECT max(occurred_at) FROM interactions) AS "newestInteractionAt"`,
    );
    return row;
  }

  /**
   * Interactions recorded in each of the last `hours` clock hours, the current one last (partial),
   * zeros included; by when they were stored (created_at), not when they happened.
   */
  ingestPerHour(hours: number): Promise<HourCount[]> {
    return this.db.query<HourCount[]>(
      `WITH bounds AS (SELECT date_trunc('hour', now()) AS last, date_trunc('hour', now()) - ($1::int - 1) * interval '1 hour' AS first),
            counts AS (
              SELECT date_trunc('hour', x.created_at) AS hour, count(*)::float8 AS n
              FROM interactions x, bounds WHERE x.created_at >= bounds.first GROUP BY 1)
       SELECT h.hour, COALESCE(c.n, 0)::float8 AS interactions
       FROM bounds, generate_series(bounds.first, bounds.last, interval '1 hour') AS h(hour)
       LEFT JOIN counts c ON c.hour = h.hour
       ORDER BY h.hour`,
      [hours],
    );
  }
}
