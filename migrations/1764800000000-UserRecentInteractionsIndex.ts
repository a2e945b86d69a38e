import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's interactions newest first: serves the API's freshness check (max(occurred_at) of a user)
 * and history pagination straight from the index. Without it Postgres answers max() by walking the
 * global occurred_at index backwards until it meets the user: seconds on millions of rows.
 * Built CONCURRENTLY, so recording interactions goes on while it builds (outside a transaction).
 */
export class UserRecentInteractionsIndex1764800000000 implements MigrationInterface {
  name = 'UserRecentInteractionsIndex1764800000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS interactions_user_recent ON interactions (user_id, occurred_at DESC, id DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS interactions_user_recent`);
  }
}
