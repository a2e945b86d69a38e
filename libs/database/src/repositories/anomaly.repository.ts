import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface AnomalyRow {
  userId: string;
  score: number;
  percentile: number;
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
