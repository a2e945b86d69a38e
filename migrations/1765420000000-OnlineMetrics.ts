import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Online metrics, rolled up per model version, hour and unit: answers given, impressions reported
 * and attributed POSITIVE events by type (`measure`: 'answers', 'impressions' or 'positive:<type>').
 * The unit is a hash of the user id into 64 groups (libs/feedback/src/attribution.ts): a user's
 * rows all fall in one unit, so the units are independent clusters for a CTR's standard error,
 * and no row names a user (nothing here to erase). A day is the sum of its hours. Version 0: answers
 * without a model (popularity). Queries are by version and hour range, the primary key's prefix.
 */
export class OnlineMetrics1765420000000 implements MigrationInterface {
  name = 'OnlineMetrics1765420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE online_metrics (
        model_version integer NOT NULL,
        hour          timestamptz NOT NULL,
        unit          smallint NOT NULL,
        measure       text NOT NULL,
        count         bigint NOT NULL,
        CONSTRAINT online_metrics_pkey PRIMARY KEY (model_version, hour, unit, measure)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE online_metrics`);
  }
}
