import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EnvVars } from '@app/config';

/** How long the log keeps an entry: far longer than any training runs, then the hashed id is forgotten too. */
export const ERASURE_LOG_DAYS = 30;

/** What erasing a user changed in Postgres. */
export interface PostgresErasure {
  /** A user by that id existed (their row and interactions are gone now). */
  found: boolean;
  /** Every model version recoder has numbered: the Redis copies to erase are among these. */
  versions: number[];
}

/**
 * The erasure of users in Postgres and the erasure log, keyed by HMAC-SHA-256 of the external id
 * (never the id): a training publishing after an erasure its snapshot predates skips the user.
 */
@Injectable()
export class ErasureRepository {
  private key: Promise<{ hmac: Buffer; id: Buffer }> | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly env: EnvVars,
  ) {}

  /**
   * In one transaction: the user (their interactions cascade), their impressions, their anomaly scores of every
   * version, their owed stale flags, and a log entry. Logged even when no user row exists: a
   * retry after a failure, or a training that still holds them, must find the entry.
   */
  async eraseUser(externalId: string): Promise<PostgresErasure> {
    const key = await this.hmacKey();
    const idHash = hmac(key.hmac, externalId);
    return this.db.transaction(async (tx) => {
      // impressions have no foreign key (a partitioned roll-up upserted in bulk): erased by the user's id here
      await tx.query('DELETE FROM impressions WHERE user_id IN (SELECT id FROM users WHERE external_id = $1)', [
        externalId,
      ]);
      const [{ n }]: { n: number }[] = await tx.query(
        'WITH d AS (DELETE FROM users WHERE external_id = $1 RETURNING id) SELECT count(*)::int AS n FROM d',
        [externalId],
      );
      await tx.query('DELETE FROM user_anomalies WHERE user_id = $1', [externalId]);
      await tx.query('DELETE FROM stale_flags_owed WHERE user_id = $1', [externalId]);
      // erased again: the newest transaction is the one a training's snapshot must be compared with
      await tx.query(
        `INSERT INTO erasure_log (id_hash, key_id) VALUES ($1, $2)
         ON CONFLICT (id_hash) DO UPDATE SET erased_at = clock_timestamp(), erased_xid = pg_current_xact_id()`,
        [idHash, key.id],
      );
      // an entry matters only to a training that read its data before it: none runs this long
      await tx.query(`DELETE FROM erasure_log WHERE erased_at < clock_timestamp() - make_interval(days => $1)`, [
        ERASURE_LOG_DAYS,
      ]);
      const versions: { version: number }[] = await tx.query('SELECT version FROM model_versions ORDER BY version');
      return { found: n > 0, versions: versions.map((r) => r.version) };
    });
  }

  /**
   * Of these users, those erased by a transaction the snapshot (pg_current_snapshot() text of the
   * read a training loaded its data in) does not see: the training may hold them, and must not
   * publish them. Usually none, and then no id is hashed.
   */
  async erasedSince(snapshot: string, userIds: readonly string[]): Promise<Set<string>> {
    const rows: { id_hash: Buffer; key_id: Buffer }[] = await this.db.query(
      `SELECT id_hash, key_id FROM erasure_log
       WHERE erased_xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(erased_xid, $1::pg_snapshot)`,
      [snapshot],
    );
    if (rows.length === 0) return new Set();
    const key = await this.hmacKey();
    // unmatched, such a user would be published again: refuse rather than resurrect them
    if (rows.some((r) => !r.key_id.equals(key.id))) throw new ErasureKeyMismatchError();
    const erased = new Set(rows.map((r) => r.id_hash.toString('hex')));
    return new Set(userIds.filter((id) => erased.has(hmac(key.hmac, id).toString('hex'))));
  }

  /** The log's key for an external id. */
  async idHash(externalId: string): Promise<Buffer> {
    return hmac((await this.hmacKey()).hmac, externalId);
  }

  /**
   * A secret of its own for `purpose`, from the same keys: random per database (so every replica
   * agrees without configuration), and SIGNING_SECRET's (or the bootstrap key's) when set.
   */
  async derivedSecret(purpose: string): Promise<Buffer> {
    return createHmac('sha256', (await this.hmacKey()).hmac)
      .update(`recoder:${purpose}`)
      .digest();
  }

  /** The database's random key, with the signing secret mixed in when one is configured (both are then needed). */
  private hmacKey(): Promise<{ hmac: Buffer; id: Buffer }> {
    if (this.key) return this.key;
    this.key = this.db.query('SELECT key FROM erasure_log_key LIMIT 1').then(([row]: { key: string }[]) => {
      if (!row) throw new Error('erasure_log_key is empty: run the migrations');
      const key = createHmac('sha256', row.key)
        .update(`recoder:erasure-log:${configuredSecret(this.env)}`)
        .digest();
      // names the key without revealing it, so entries hashed under another one are recognised
      return { hmac: key, id: hmac(key, 'recoder:erasure-key-id').subarray(0, 8) };
    });
    // a failed read (Postgres down) is asked again next time, not remembered
    this.key.catch(() => (this.key = null));
    return this.key;
  }
}

/** The log holds entries hashed under another key than this process's: API and worker must share their secrets. */
export class ErasureKeyMismatchError extends Error {
  constructor() {
    super(
      'The erasure log has entries hashed under another SIGNING_SECRET (or ADMIN_API_KEY): give the API and the worker the same ones',
    );
  }
}

const hmac = (key: Buffer, id: string): Buffer => createHmac('sha256', key).update(id).digest();

/** SIGNING_SECRET, else the bootstrap key (as signed links derive theirs), else none. */
const configuredSecret = (env: EnvVars): string => env.SIGNING_SECRET ?? env.ADMIN_API_KEY ?? '';
