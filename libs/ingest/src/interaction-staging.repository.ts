import { pipeline } from 'node:stream/promises';
import { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Staging columns a COPY can fill; `type` is optional (null = the import's default type). */
export const STAGING_COLUMNS = ['user_ext', 'item_ext', 'weight', 'occurred_at', 'type'] as const;
export type StagingColumn = (typeof STAGING_COLUMNS)[number];
export const FILE_STAGING_COLUMNS: readonly StagingColumn[] = ['user_ext', 'item_ext', 'weight', 'occurred_at'];

const STAGING_TABLE = 'interaction_staging';

/**
 * The queries of a bulk import, all on ONE connection inside ONE transaction: a temp staging table
 * filled by COPY, then merged into users, items and interactions. Call inside BEGIN ... COMMIT.
 */
export class InteractionStagingRepository {
  constructor(private readonly client: ClientBase) {}

  // temp: never WAL-logged, invisible to other sessions, dropped with the transaction whatever happens
  async createStagingTable(): Promise<void> {
    await this.client.query(`
      CREATE TEMP TABLE ${STAGING_TABLE} (
        user_ext    text NOT NULL,
        item_ext    text NOT NULL,
        weight      real NOT NULL,
        occurred_at double precision NOT NULL,
        type        text
      ) ON COMMIT DROP`);
  }

  /** Streams COPY text-format chunks into the staging table; returns the rows the server took. */
  async copyIntoStaging(chunks: AsyncIterable<string | Buffer>, columns: readonly StagingColumn[]): Promise<number> {
    const copy = this.client.query(copyFrom(`COPY ${STAGING_TABLE} (${columns.join(', ')}) FROM STDIN`));
    // an error in the source destroys the COPY stream, which sends CopyFail: the server drops the rows
    await pipeline(chunks, copy);
    // the planner knows nothing of a fresh temp table; without statistics it picks nested loops
    await this.client.query(`ANALYZE ${STAGING_TABLE}`);
    return copy.rowCount;
  }

  /** Creates the users the staged rows name and the table lacks; returns how many were created. */
  async insertMissingUsers(): Promise<number> {
    return this.insertMissing('users', 'user_ext');
  }

  async insertMissingItems(): Promise<number> {
    return this.insertMissing('items', 'item_ext');
  }

  /**
   * Adds the staged interactions with internal ids; a row whose (user, item, type, occurred_at) is
   * already stored (or repeated in the file) is skipped. Returns how many were inserted.
   */
  async insertInteractions(defaultType: string): Promise<number> {
    // sorted by the natural key: index inserts land on neighbouring pages, and concurrent imports
    // take their unique-index locks in the same order (no deadlock)
    const { rowCount } = await this.client.query(
      `INSERT INTO interactions (user_id, item_id, type, weight, occurred_at)
       SELECT u.id, i.id, coalesce(s.type, $1), s.weight, to_timestamp(s.occurred_at)
       FROM ${STAGING_TABLE} s
       JOIN users u ON u.external_id = s.user_ext
       JOIN items i ON i.external_id = s.item_ext
       ORDER BY 1, 2, 3, 5
       ON CONFLICT (user_id, item_id, type, occurred_at) DO NOTHING`,
      [defaultType],
    );
    return rowCount ?? 0;
  }

  private async insertMissing(table: 'users' | 'items', column: 'user_ext' | 'item_ext'): Promise<number> {
    // sorted: ids come out the same for the same file, and concurrent imports lock keys in one order
    const { rowCount } = await this.client.query(
      `INSERT INTO ${table} (external_id)
       SELECT DISTINCT ${column} FROM ${STAGING_TABLE} ORDER BY 1
       ON CONFLICT (external_id) DO NOTHING`,
    );
    return rowCount ?? 0;
  }
}
