import { stat } from 'node:fs/promises';
import { Client, ClientBase, Pool } from 'pg';
import { FileStagingState, interactionFileStagingChunks } from './file-copy-chunks';
import { InteractionFormat, INTERACTION_FORMATS, isInteractionFormat } from './formats';
import { ImportErrorCode, ImportException } from './import-errors';
import { idProblem } from './input-rules';
import { FILE_STAGING_COLUMNS, InteractionStagingRepository, StagingColumn } from './interaction-staging.repository';

/** Where an import writes: a connection URL (a client of its own) or a pool to borrow one from. */
export type ImportTarget = { url: string; pool?: never } | { pool: Pool; url?: never };

export interface ImportProgress {
  /** reading: streaming into staging (rows so far); merging: all rows read, merging into the schema. */
  phase: 'reading' | 'merging';
  rows: number;
  seconds: number;
}

export interface ImportResult {
  /** Data rows read (blank lines and the csv header not counted). */
  rows: number;
  /** Interactions added. */
  inserted: number;
  /** Rows skipped as already stored, or repeated within the input. */
  duplicates: number;
  /** Users and items created by this import (0 on a re-import). */
  users: number;
  items: number;
  seconds: number;
  /** Where the time went (seconds): streaming into staging, users and items, interactions, commit. */
  phases: { copy: number; ids: number; interactions: number; commit: number };
  /** Whether the per-row foreign key triggers were skipped (see skipForeignKeyChecks). */
  foreignKeyChecksSkipped: boolean;
  /** The distinct users of the input: whose cached embeddings the new rows may have outdated. */
  userIds: readonly string[];
}

export const DEFAULT_TYPE_BY_FORMAT: Record<InteractionFormat, string> = {
  'movielens-100k': 'rating',
  'movielens-1m': 'rating',
  csv: 'interaction',
};

const TEMP_BUFFERS = '256MB';

export type ImportFileOptions = ImportTarget & {
  path: string;
  /** One of INTERACTION_FORMATS; any other is refused (UnknownFormat): callers pass what a user typed. */
  format: string;
  /** Interaction type of every row; default `rating` for MovieLens, `interaction` for csv. */
  type?: string;
  onProgress?: (progress: ImportProgress) => void;
};

/**
 * Imports an interaction file: streams it, validated line by line, through COPY into temp staging
 * tables, then merges them into users, items and interactions, all in ONE transaction. A bad line
 * throws "line N: reason" before any merge, so nothing is imported.
 *
 * Idempotent: a row whose (user, item, type, occurred_at) is already stored is skipped, and a row
 * without a timestamp gets a fixed one (1970-01-01T00:00:00Z) rather than the time of the import,
 * so it has the same key on every import. The price: in such a file, repeats of a (user, item)
 * pair are one interaction.
 */
export async function importInteractionFile(options: ImportFileOptions): Promise<ImportResult> {
  const { path, format } = options;
  if (!isInteractionFormat(format)) {
    throw new ImportException(
      ImportErrorCode.UnknownFormat,
      `unknown format "${format}" (known: ${INTERACTION_FORMATS.join(', ')})`,
    );
  }
  const type = checkType(options.type ?? DEFAULT_TYPE_BY_FORMAT[format]);
  await checkReadableFile(path);
  const state = new FileStagingState();
  return importStagedRows(options, {
    chunks: interactionFileStagingChunks(path, format, state),
    columns: FILE_STAGING_COLUMNS,
    defaultType: type,
    rowsSoFar: () => state.rows,
    userIds: () => state.users.ids,
    itemIds: () => state.items.ids,
    mayRepeatKeys: () => state.rowsWithoutTimestamp > 0,
    onProgress: options.onProgress,
  });
}

/** Rows for the shared import path (files and synthetic data alike). */
export interface StagedRowsSource {
  /** COPY text rows for `columns`; user_idx/item_idx index userIds()/itemIds(). */
  chunks: AsyncIterable<string | Buffer>;
  columns: readonly StagingColumn[];
  /** Type of the rows without a type column. */
  defaultType: string;
  /** The following are read as chunks are consumed, and complete once they are exhausted. */
  rowsSoFar: () => number;
  userIds: () => readonly string[];
  itemIds: () => readonly string[];
  /** Whether two rows may share (user, item, type, occurred_at). */
  mayRepeatKeys: () => boolean;
  onProgress?: (progress: ImportProgress) => void;
}

/** COPY into staging, then merge, in one transaction. Exposed so generated data takes the same path as files. */
export async function importStagedRows(target: ImportTarget, source: StagedRowsSource): Promise<ImportResult> {
  checkType(source.defaultType);
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  return withClient(target, async (client) => {
    const staging = new InteractionStagingRepository(client);
    await client.query('BEGIN');
    try {
      // the whole input is read and validated before anything merges: a bad line leaves no trace
      const rows = await stage(staging, source, elapsed);
      const copied = elapsed();
      source.onProgress?.({ phase: 'merging', rows, seconds: copied });
      const { users, items, inserted, foreignKeyChecksSkipped, resolved, merged } = await merge(
        staging,
        source,
        elapsed,
      );
      await client.query('COMMIT');
      const committed = elapsed();
      return {
        rows,
        inserted,
        duplicates: rows - inserted,
        users,
        items,
        seconds: committed,
        phases: {
          copy: round(copied),
          ids: round(resolved - copied),
          interactions: round(merged - resolved),
          commit: round(committed - merged),
        },
        foreignKeyChecksSkipped,
        userIds: source.userIds(),
      };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

async function stage(
  staging: InteractionStagingRepository,
  source: StagedRowsSource,
  elapsed: () => number,
): Promise<number> {
  await staging.createStagingTables();
  const rows = await staging.copyRows(withProgress(source, elapsed), source.columns);
  // the dictionaries are complete only now that every row has been read
  await staging.copyUserIds(source.userIds());
  await staging.copyItemIds(source.itemIds());
  await staging.analyzeStaging();
  return rows;
}

async function merge(staging: InteractionStagingRepository, source: StagedRowsSource, elapsed: () => number) {
  const users = await staging.insertMissingUsers();
  const items = await staging.insertMissingItems();
  await staging.resolveAndLockUsers();
  await staging.resolveAndLockItems();
  const resolved = elapsed();

  const foreignKeyChecksSkipped = await staging.skipForeignKeyChecks();
  const inserted = await staging.insertInteractions(source.defaultType, source.mayRepeatKeys());
  if (foreignKeyChecksSkipped) await staging.restoreForeignKeyChecks();
  return { users, items, inserted, foreignKeyChecksSkipped, resolved, merged: elapsed() };
}

async function* withProgress(source: StagedRowsSource, elapsed: () => number): AsyncGenerator<string | Buffer> {
  for await (const chunk of source.chunks) {
    yield chunk;
    source.onProgress?.({ phase: 'reading', rows: source.rowsSoFar(), seconds: elapsed() });
  }
}

async function withClient<T>(target: ImportTarget, work: (client: ClientBase) => Promise<T>): Promise<T> {
  if (target.pool) {
    const client = await target.pool.connect();
    let failed = false;
    try {
      return await work(client);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // after a failed COPY the session is not worth trusting: drop the connection rather than pool it
      client.release(failed);
    }
  }
  // staging (about 40 bytes a row) stays in memory instead of spilling from the default 8MB of temp buffers;
  // only settable before a session first touches a temp table, hence at connect
  const client = new Client({
    connectionString: target.url,
    application_name: 'recoder-import',
    options: `-c temp_buffers=${TEMP_BUFFERS}`,
  });
  // a dropped connection fails the statement in flight (and so the import); unheard, it would crash the process
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function checkType(type: string): string {
  const problem = idProblem(type);
  if (problem) throw new ImportException(ImportErrorCode.InvalidType, `type ${problem}`);
  return type;
}

async function checkReadableFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new ImportException(ImportErrorCode.FileNotFound, `file not found: ${path}`);
  if (!info.isFile()) throw new ImportException(ImportErrorCode.FileNotFound, `not a file: ${path}`);
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
