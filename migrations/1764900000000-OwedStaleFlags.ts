import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stale flags that could not be set because Redis was unreachable, kept beside the interactions
 * that caused them: a flag owed only in one API process's memory was lost when that process
 * stopped, and the user was then answered from an embedding that ignored what they did, until
 * the next retrain. Any API instance sets these once Redis answers, then deletes them.
 */
export class OwedStaleFlags1764900000000 implements MigrationInterface {
  name = 'OwedStaleFlags1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stale_flags_owed (
        user_id     text PRIMARY KEY,
        owed_since  timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stale_flags_owed`);
  }
}
