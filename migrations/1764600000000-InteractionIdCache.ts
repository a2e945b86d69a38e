import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each session takes interaction ids from the identity sequence 1000 at a time. Without a cache,
 * every inserted row locks and dirties the sequence's page: a bulk import of 1M rows spent about
 * a quarter of its insert time there (bench/import.ts). Ids stay unique; they may have gaps and
 * are not in insertion order across sessions (nothing orders by id alone; it is a tiebreak).
 */
export class InteractionIdCache1764600000000 implements MigrationInterface {
  name = 'InteractionIdCache1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE interactions ALTER COLUMN id SET CACHE 1000`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE interactions ALTER COLUMN id SET CACHE 1`);
  }
}
