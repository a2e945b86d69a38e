import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When interactions were recorded, for the ingest rate over recent hours (`ingestRate`). A BRIN
 * index: rows are appended in created_at order, so block ranges summarise them in a few pages and
 * cost ingestion next to nothing, where a B-tree would add a second entry per row.
 * Built CONCURRENTLY, so recording goes on while it builds (outside a transaction).
 */
export class InteractionsRecordedIndex1765300000000 implements MigrationInterface {
  name = 'InteractionsRecordedIndex1765300000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS interactions_created_at_brin ON interactions USING brin (created_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS interactions_created_at_brin`);
  }
}
