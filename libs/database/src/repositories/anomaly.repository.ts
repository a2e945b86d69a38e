import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface AnomalyRow {
  userId: string;
  score: number;
  percentile: number;
}

export interface ScoreHistogram {
  users: number;
  /** Lowest and highest score; null without scores. */
  min: number | null;
  max: number | null;
  /** Users per bin, the lowest scores first; bins of equal width from min to max (the last one holds max). */
  counts: number[];
}

/** Rows per INSERT: arrays in, one statement each. */
const INSERT_BATCH = 10_000;

@Injectable()
export class AnomalyRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Replaces a version's scores; a percentile (0-100) is the share of the version's users scoring at most as high. */
  async replaceForVersion(version: number, userIds: readonly string[], scores: Float32Array): Promise<void> {
    const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b]);
    const percentile = new Float32Array(scores.length);
    order.forEach((u, rank) => (percentile[u] = (100 * (rank + 1)) / scores.length));
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM user_anomalies WHERE version = $1', [version]);
      for (let start = 0; start < userIds.length; start += INSERT_BATCH) {
        const end = Math.min(userIds.length, start + INSERT_BATCH);
        await tx.query(
          `INSERT INTO user_anomalies (version, user_id, score, percentile)
           SELECT $1, * FROM unnest($2::text[], $3::real[], $4::real[])`,
          [
            version,
            userIds.slice(start, end),
            Array.from(scores.subarray(start, end)),
            Array.from(percentile.subarray(start, end)),
          ],
        );
      }
    });
  }

  async find(version: number, userId: string): Promise<AnomalyRow | null> {
    const [row] = await this.db.query<AnomalyRow[]>(
      `SELECT user_id AS "userId", score, percentile FROM user_anomalies WHERE version = $1 AND user_id = $2`,
      [version, userId],
    );
    return row ?? null;
  }

  /** Where a score computed now (a fold-in) falls among the version's users. */
  async percentileOf(version: number, score: number): Promise<number> {
    const [row] = await this.db.query<{ p: number }[]>(
      `SELECT 100 * count(*) FILTER (WHERE score <= $2)::float8 / greatest(count(*), 1) AS p FROM user_anomalies WHERE version = $1`,
      [version, score],
    );
    return row.p;
  }

  mostAnomalous(version: number, limit: number, minPercentile: number): Promise<AnomalyRow[]> {
    return this.db.query(
      `SELECT user_id AS "userId", score, percentile FROM user_anomalies
       WHERE version = $1 AND percentile >= $2 ORDER BY score DESC LIMIT $3`,
      [version, minPercentile, limit],
    );
  }

  /** The version's scores in `bins` bins of equal width, counted in Postgres (one pass over the version's rows). */
  async histogram(version: number, bins: number): Promise<ScoreHistogram> {
    const [range] = await this.db.query<{ lo: number | null; hi: number | null; n: number }[]>(
      `SELECT min(score)::float8 AS lo, max(score)::float8 AS hi, count(*)::int AS n FROM user_anomalies WHERE version = $1`,
      [version],
    );
    const counts = new Array<number>(range.n > 0 ? bins : 0).fill(0);
    if (range.n > 0) {
      // all equal: one value, counted in the first bin
      const rows = await this.db.query<{ bin: number; n: number }[]>(
        `SELECT CASE WHEN $3::float8 > $2::float8 THEN least(width_bucket(score, $2::float8, $3::float8, $4::int), $4::int) ELSE 1 END AS bin,
                count(*)::int AS n
         FROM user_anomalies WHERE version = $1 GROUP BY 1`,
        [version, range.lo, range.hi, bins],
      );
      for (const { bin, n } of rows) counts[bin - 1] = n;
    }
    return { users: range.n, min: range.lo, max: range.hi, counts };
  }

  deleteUsers(version: number, userIds: readonly string[]): Promise<unknown> {
    return this.db.query('DELETE FROM user_anomalies WHERE version = $1 AND user_id = ANY($2::text[])', [
      version,
      userIds,
    ]);
  }

  deleteForVersions(versions: number[]): Promise<unknown> {
    return this.db.query('DELETE FROM user_anomalies WHERE version = ANY($1)', [versions]);
  }
}
