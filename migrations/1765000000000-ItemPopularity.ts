import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each item's interaction count, as the last training counted it. The catalogue every API
 * process refreshes (every 30 s) read popularity as a count over all interactions: a full scan
 * per refresh per replica (250 ms of both cores at 2M interactions), which starved the scoring
 * threads it shared the machine with. Training reads every interaction anyway and counts them.
 */
export class ItemPopularity1765000000000 implements MigrationInterface {
  name = 'ItemPopularity1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE item_popularity (
        item_id      integer PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
        interactions float8 NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE item_popularity`);
  }
}
