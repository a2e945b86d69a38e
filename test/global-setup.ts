import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrate } from '../libs/database/src/migrate';

/** A fresh test database, migrated the way production is (never synchronize). */
export default async function globalSetup(): Promise<void> {
  // test files (in this process or in workers forked after this) name the same database
  process.env.RECODER_TEST_RUN ??= String(process.pid);
  const { TEST_DATABASE_URL, TEST_EXPORT_DIR, TEST_REDIS_CLUSTER_NODES } = await import('./test-env');
  // the cluster run starts the local cluster if it is not up (it is kept for the next run)
  if (TEST_REDIS_CLUSTER_NODES) startLocalCluster();
  // a run stopped before its teardown leaves export files whose job ids this run's jobs reuse
  await rm(TEST_EXPORT_DIR, { recursive: true, force: true });
  await dropDatabase(TEST_DATABASE_URL);
  await migrate(TEST_DATABASE_URL);
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** scripts/redis-cluster.sh start: six nodes on 7100-7105, created once and kept while healthy. */
export function startLocalCluster(): void {
  execFileSync(join(__dirname, '..', 'scripts', 'redis-cluster.sh'), ['start'], { stdio: 'inherit', timeout: 120_000 });
}
