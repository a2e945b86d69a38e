import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../data-source';
import { testDatabase } from '@app/testing';
import { TEST_DATABASE_URL } from '../../../../test/test-env';
import { inReadSnapshot } from './read-snapshot';

describe(`${inReadSnapshot.name} (Postgres)`, () => {
  let db: Pool;
  let ds: DataSource;

  beforeAll(async () => {
    ({ db, ds } = await testDatabase(TEST_DATABASE_URL));
  });
  afterAll(async () => {
    await Promise.all([db.end(), ds.destroy()]);
  });

  const connected = async (pid: number) =>
    (await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 1;
  async function disconnected(pid: number): Promise<boolean> {
    for (let i = 0; i < 50 && (await connected(pid)); i++) await new Promise((r) => setTimeout(r, 20));
    return !(await connected(pid));
  }

  it('reads in one read-only snapshot and pools the connection again', async () => {
    const seen = await inReadSnapshot(ds, async (client) => {
      const { rows } = await client.query(
        `SELECT pg_backend_pid() AS pid, current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro`,
      );
      return rows[0];
    });
    expect(seen).toMatchObject({ iso: 'repeatable read', ro: 'on' });
    expect(await connected(seen.pid)).toBe(true);
  });

  it("runs a long read past the pool's statement timeout when asked, and leaves the pool's timeout as it was", async () => {
    // one connection, so the second read is on the connection the first changed
    const options = dataSourceOptions(TEST_DATABASE_URL, { statementTimeoutMs: 200 });
    const bounded = new DataSource({ ...options, extra: { ...options.extra, max: 1 } });
    await bounded.initialize();
    try {
      const slow = (client: { query: (q: string) => Promise<unknown> }) => client.query('SELECT pg_sleep(0.5)');
      await expect(inReadSnapshot(bounded, slow)).rejects.toThrow(/statement timeout/);
      await expect(inReadSnapshot(bounded, slow, { statementTimeoutMs: 5000 })).resolves.toBeDefined();
      const after = await inReadSnapshot(bounded, async (client) => {
        return (await client.query(`SELECT current_setting('statement_timeout') AS t`)).rows[0].t;
      });
      expect(after).toBe('200ms');
      await expect(inReadSnapshot(bounded, slow, { statementTimeoutMs: 1.5 })).rejects.toThrow(RangeError);
    } finally {
      await bounded.destroy();
    }
  });

  it('drops a connection whose read failed instead of pooling it', async () => {
    let pid = 0;
    await expect(
      inReadSnapshot(ds, async (client) => {
        pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        throw new Error('the COPY broke');
      }),
    ).rejects.toThrow('the COPY broke');
    expect(await disconnected(pid)).toBe(true);
  });
});
