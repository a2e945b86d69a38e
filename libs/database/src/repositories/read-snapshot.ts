import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs `read` on one pooled connection inside a REPEATABLE READ READ ONLY transaction, so a count
 * and the rows streamed after it (COPY) agree. The raw pg client is handed over because COPY
 * streams need it. A connection that failed mid-read is dropped, not pooled: after a broken COPY
 * the session is not worth trusting (pg's `release(err)` destroys it).
 */
export async function inReadSnapshot<T>(
  db: DataSource,
  read: (client: PoolClient) => Promise<T>,
  /** The transaction's own statement timeout, over the pool's (0: none); its connection's comes back after. */
  { statementTimeoutMs }: { statementTimeoutMs?: number } = {},
): Promise<T> {
  const [client, release] = (await (db.driver as PostgresDriver).obtainMasterConnection()) as [
    PoolClient,
    (err?: Error) => void,
  ];
  let failed: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (statementTimeoutMs !== undefined) {
      if (!(Number.isSafeInteger(statementTimeoutMs) && statementTimeoutMs >= 0))
        throw new RangeError(`not a statement timeout: ${statementTimeoutMs}`);
      // SET takes no parameters: checked to be an integer above
      await client.query(`SET LOCAL statement_timeout = ${statementTimeoutMs}`);
    }
    const result = await read(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failed = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    release(failed);
  }
}

/**
 * The transaction's snapshot as text (pg_current_snapshot()): which transactions its reads see.
 * As the first statement of a REPEATABLE READ transaction, it also fixes that snapshot.
 */
export async function currentSnapshot(client: PoolClient): Promise<string> {
  return ((await client.query('SELECT pg_current_snapshot()::text AS snapshot')).rows[0] as { snapshot: string })
    .snapshot;
}
