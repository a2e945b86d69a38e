import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which interactions a version's training read: the time and transaction ids of the snapshot it
 * read in, so the users who recorded anything the version misses can be flagged stale in it when
 * it goes live.
 */
export class ModelVersionDataSnapshot1765250000000 implements MigrationInterface {
  name = 'ModelVersionDataSnapshot1765250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_versions ADD COLUMN data_snapshot jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_versions DROP COLUMN data_snapshot`);
  }
}
