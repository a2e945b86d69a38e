import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Impressions, rolled up per user, item and week (the Monday it began): how many times the item
 * was shown to the user that week, first and last. Range-partitioned by week, a partition a month
 * (`impressions_pYYYYMM`): the API creates them ahead and drops those past IMPRESSIONS_RETENTION_DAYS,
 * so old impressions go with a DROP TABLE, not a DELETE. Internal ids keep a row at 32 bytes of data.
 *
 * An event may name the answer it came from (its recommendationId): the answer's model version,
 * query and time are kept on the event, decoded (12 bytes, none when absent), for attribution.
 */
export class Impressions1765410000000 implements MigrationInterface {
  name = 'Impressions1765410000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE impressions (
        user_id     integer NOT NULL,
        item_id     integer NOT NULL,
        week        date NOT NULL,
        shows       integer NOT NULL,
        first_shown timestamptz NOT NULL,
        last_shown  timestamptz NOT NULL,
        CONSTRAINT impressions_pkey PRIMARY KEY (user_id, item_id, week)
      ) PARTITION BY RANGE (week)`);
    await q.query(`
      ALTER TABLE interactions
        ADD COLUMN rec_model_version integer,
        ADD COLUMN rec_surface smallint,
        ADD COLUMN rec_issued_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE interactions DROP COLUMN rec_model_version, DROP COLUMN rec_surface, DROP COLUMN rec_issued_at`,
    );
    await q.query(`DROP TABLE impressions`);
  }
}
