import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '@app/database';

/** A direct connection for asserting what is (not) stored, independent of the code under test. */
export function testPool(url: string): Pool {
  return new Pool({ connectionString: url, max: 2 });
}

/** The tests' database twice: a pool for asserting what is stored, and an initialised data source for the code under test. */
export async function testDatabase(url: string): Promise<{ db: Pool; ds: DataSource }> {
  const ds = createDataSource(url);
  await ds.initialize();
  return { db: testPool(url), ds };
}

export async function truncateStore(pool: Pool): Promise<void> {
  await pool.query(
    'TRUNCATE interactions, users, items, item_popularity, user_anomalies, model_weight_chunks, model_index_chunks, experiments, model_versions, stale_flags_owed, api_keys, erasure_log, feedback_types, impressions, online_metrics RESTART IDENTITY CASCADE',
  );
  // a new revision: a process that read the rules before reads them again
  await pool.query('UPDATE feedback_rules_revision SET revision = revision + 1');
}

export async function countRows(pool: Pool, table: 'users' | 'items' | 'interactions' | 'api_keys'): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}
