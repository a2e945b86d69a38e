import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The erasure log: one row per erased user, keyed by a keyed hash (HMAC-SHA-256) of their external
 * id, never the id itself. A training that read its snapshot before an erasure checks it when it
 * publishes, so it cannot bring the user back: `erased_xid` is the erasing transaction, and a
 * snapshot that does not see it is one that may still hold the user (pg_visible_in_snapshot).
 * `erasure_log_key` holds a random key drawn here; the HMAC key is derived from it and the
 * signing secret when one is configured, so the log alone cannot be checked against guessed ids.
 */
export class ErasureLog1765200000000 implements MigrationInterface {
  name = 'ErasureLog1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE erasure_log (
        id_hash     bytea PRIMARY KEY,
        -- which key hashed it: a process holding another key cannot match it, and must say so
        key_id      bytea NOT NULL,
        erased_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
        erased_xid  xid8 NOT NULL DEFAULT pg_current_xact_id()
      )`);
    // a publish asks only for erasures its snapshot may not see: those at or past its xmin
    await q.query(`CREATE INDEX erasure_log_by_xid ON erasure_log (erased_xid)`);
    await q.query(`CREATE TABLE erasure_log_key (key text NOT NULL)`);
    // gen_random_uuid draws from the server's strong random source: 244 random bits in two
    await q.query(`INSERT INTO erasure_log_key (key) VALUES (gen_random_uuid()::text || gen_random_uuid()::text)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE erasure_log_key`);
    await q.query(`DROP TABLE erasure_log`);
  }
}
