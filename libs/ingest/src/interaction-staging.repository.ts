import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ClientBase, DatabaseError } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { escapeCopyText } from './copy-text';

/** Staging columns a COPY can fill; `type` is optional (null = the import's default type). */
export type StagingColumn = 'user_idx' | 'item_idx' | 'weight' | 'occurred_at' | 'type';
export const FILE_STAGING_COLUMNS: readonly StagingColumn[] = ['user_idx', 'item_idx', 'weight', 'occurred_at'];

const ROWS = 'interaction_staging';
const USERS = 'user_staging';
const ITEMS = 'item_staging';
const ID_ROWS_PER_CHUNK = 10_000;
const UNIQUE_VIOLATION = '23505';
const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * The queries of a bulk import, on ONE connection inside ONE transaction (call between BEGIN and
 * COMMIT): temp staging tables filled by COPY, merged into users, items and interactions.
 * Staged rows name users and items by their index in this import's dictionaries; the dictionaries
 * are staged too and resolved to internal ids once, so the big merge needs no join on text.
 */
export class InteractionStagingRepository {
  constructor(private readonly client: ClientBase) {}

  // temp: never WAL-logged, invisible to other sessions, dropped with the transaction whatever happens
  async createStagingTables(): Promise<void> {
    await this.client.query(`
      CREATE TEMP TABLE ${ROWS} (
        user_idx    integer NOT NULL,
        item_idx    integer NOT NULL,
        weight      real NOT NULL,
        occurred_at double precision NOT NULL,
        type        text
      ) ON COMMIT DROP`);
    for (const table of [USERS, ITEMS]) {
      await this.client.query(
        `CREATE TEMP TABLE ${table} (idx integer NOT NULL, external_id text NOT NULL, id integer) ON COMMIT DROP`,
      );
    }
  }

  /** Streams COPY text-format chunks into the staging rows; returns the rows the server took. */
  async copyRows(chunks: AsyncIterable<string | Buffer>, columns: readonly StagingColumn[]): Promise<number> {
    return this.copy(`COPY ${ROWS} (${columns.join(', ')}) FROM STDIN`, chunks);
  }

  /** Stages a dictionary: externalIds[idx] is the external id of index idx. */
  async copyUserIds(externalIds: readonly string[]): Promise<void> {
    await this.copy(`COPY ${USERS} (idx, external_id) FROM STDIN`, idChunks(externalIds));
  }

  async copyItemIds(externalIds: readonly string[]): Promise<void> {
    await this.copy(`COPY ${ITEMS} (idx, external_id) FROM STDIN`, idChunks(externalIds));
  }

  // the planner knows nothing of fresh temp tables; without statistics it guesses nested loops
  async analyzeStaging(): Promise<void> {
    await this.client.query(`ANALYZE ${USERS}, ${ITEMS}`);
  }

  /** Creates the staged users the table lacks (in order of first appearance); returns how many. */
  async insertMissingUsers(): Promise<number> {
    return this.insertMissing('users', USERS);
  }

  async insertMissingItems(): Promise<number> {
    return this.insertMissing('items', ITEMS);
  }

  /**
   * Resolves staged users to internal ids and takes the lock a foreign key check would take
   * (FOR KEY SHARE): a concurrent deleteUser waits for this import instead of orphaning its rows.
   */
  async resolveAndLockUsers(): Promise<void> {
    await this.resolveAndLock('users', USERS);
  }

  async resolveAndLockItems(): Promise<void> {
    await this.resolveAndLock('items', ITEMS);
  }

  /**
   * Skips the per-row foreign key triggers of the interactions insert, when this role may: every
   * row references a user and an item resolved and locked above, so the check can only pass, and
   * it costs about as much as the insert itself. Returns false (triggers stay) without the right
   * (superuser, or `GRANT SET ON PARAMETER session_replication_role`). Note that it would skip any
   * other trigger on interactions too; there is none.
   */
  async skipForeignKeyChecks(): Promise<boolean> {
    await this.client.query('SAVEPOINT skip_fk_checks');
    try {
      await this.client.query('SET LOCAL session_replication_role = replica');
      await this.client.query('RELEASE SAVEPOINT skip_fk_checks');
      return true;
    } catch (err) {
      if (!(err instanceof DatabaseError) || err.code !== INSUFFICIENT_PRIVILEGE) throw err;
      await this.client.query('ROLLBACK TO SAVEPOINT skip_fk_checks');
      return false;
    }
  }

  async restoreForeignKeyChecks(): Promise<void> {
    await this.client.query('SET LOCAL session_replication_role = origin');
  }

  /**
   * Adds the staged interactions; a row whose (user, item, type, occurred_at) is already stored or
   * repeated in the input is skipped. Returns how many were inserted.
   *
   * Unless the input may repeat a key within itself, a plain INSERT is tried first: ON CONFLICT's
   * speculative insertion costs about a third more, and a first import has no conflicts. The first
   * unique violation (a re-import, an overlapping file, a concurrent writer of the same key) rolls
   * it back to a savepoint and the ON CONFLICT DO NOTHING insert does the work. (A NOT EXISTS
   * filter instead would scan the table the statement is filling: quadratic on a fresh table.)
   */
  async insertInteractions(defaultType: string, mayRepeatKeys: boolean): Promise<number> {
    if (!mayRepeatKeys) {
      await this.client.query('SAVEPOINT plain_insert');
      try {
        const inserted = await this.insertNotStored(defaultType);
        await this.client.query('RELEASE SAVEPOINT plain_insert');
        return inserted;
      } catch (err) {
        if (!(err instanceof DatabaseError) || err.code !== UNIQUE_VIOLATION) throw err;
        await this.client.query('ROLLBACK TO SAVEPOINT plain_insert');
      }
    }
    return this.insertSkippingConflicts(defaultType);
  }

  private async insertNotStored(defaultType: string): Promise<number> {
    const { rowCount } = await this.client.query(
      `INSERT INTO interactions (user_id, item_id, type, weight, occurred_at)
       SELECT r.user_id, r.item_id, coalesce(r.type, $1), r.weight, to_timestamp(r.occurred_at)
       ${STAGED_ROWS_WITH_IDS}`,
      [defaultType],
    );
    return rowCount ?? 0;
  }

  private async insertSkippingConflicts(defaultType: string): Promise<number> {
    const { rowCount } = await this.client.query(
      `INSERT INTO interactions (user_id, item_id, type, weight, occurred_at)
       SELECT r.user_id, r.item_id, coalesce(r.type, $1), r.weight, to_timestamp(r.occurred_at)
       ${STAGED_ROWS_WITH_IDS}
       ON CONFLICT (user_id, item_id, type, occurred_at) DO NOTHING`,
      [defaultType],
    );
    return rowCount ?? 0;
  }

  private async insertMissing(table: 'users' | 'items', staging: string): Promise<number> {
    // in order of first appearance: the same file gives the same ids
    const { rowCount } = await this.client.query(
      `INSERT INTO ${table} (external_id)
       SELECT external_id FROM ${staging} ORDER BY idx
       ON CONFLICT (external_id) DO NOTHING`,
    );
    return rowCount ?? 0;
  }

  private async resolveAndLock(table: 'users' | 'items', staging: string): Promise<void> {
    await this.client.query(
      `UPDATE ${staging} s SET id = t.id
       FROM (SELECT t.id, t.external_id FROM ${table} t JOIN ${staging} k ON k.external_id = t.external_id FOR KEY SHARE OF t) t
       WHERE t.external_id = s.external_id`,
    );
  }

  private async copy(sql: string, chunks: Iterable<string | Buffer> | AsyncIterable<string | Buffer>): Promise<number> {
    const copy = this.client.query(copyFrom(sql));
    // an error in the source destroys the COPY stream, which sends CopyFail: the server drops the rows
    await pipeline(Readable.from(chunks, { objectMode: false }), copy);
    return copy.rowCount;
  }
}

/**
 * The staged rows with internal ids. The dictionaries become two int arrays (element idx+1 is the
 * id of index idx) and each row looks its ids up by subscript: O(1), about three times cheaper
 * than hash-joining a million rows twice. A user or item deleted while the import ran has id 0
 * there: its rows are skipped, as the foreign key would have refused them.
 */
const STAGED_ROWS_WITH_IDS = `
       FROM (SELECT (SELECT array_agg(coalesce(id, 0) ORDER BY idx) FROM ${USERS}) AS users,
                    (SELECT array_agg(coalesce(id, 0) ORDER BY idx) FROM ${ITEMS}) AS items) ids,
            -- OFFSET 0 keeps the subquery as it is, so each subscript is evaluated once per row
            LATERAL (SELECT ids.users[s.user_idx + 1] AS user_id, ids.items[s.item_idx + 1] AS item_id, s.type, s.weight, s.occurred_at
                     FROM ${ROWS} s OFFSET 0) r
       WHERE r.user_id <> 0 AND r.item_id <> 0`;

function* idChunks(externalIds: readonly string[]): Generator<string> {
  for (let start = 0; start < externalIds.length; start += ID_ROWS_PER_CHUNK) {
    const end = Math.min(externalIds.length, start + ID_ROWS_PER_CHUNK);
    let chunk = '';
    for (let idx = start; idx < end; idx++) chunk += `${idx}\t${escapeCopyText(externalIds[idx])}\n`;
    yield chunk;
  }
}
