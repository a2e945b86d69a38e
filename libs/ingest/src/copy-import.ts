import { stat } from 'node:fs/promises';
import { Client, ClientBase, Pool, PoolClient } from 'pg';
import { interactionFileCopyChunks, RowCounter } from './file-copy-chunks';
import { InteractionFormat, isInteractionFormat } from './formats';
import { FILE_STAGING_COLUMNS, InteractionStagingRepository, StagingColumn } from './interaction-staging.repository';

/** Where an import writes: a connection URL (a client of its own) or a pool to borrow one from. */
export type ImportTarget = { url: string; pool?: never } | { pool: Pool; url?: never };

export interface ImportProgress {
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
  /** Where the time went: streaming into staging, then each merge step. */
  phases: { copy: number; users: number; items: number; interactions: number };
}

export const DEFAULT_TYPE_BY_FORMAT: Record<InteractionFormat, string> = {
  'movielens-100k': 'rating',
  'movielens-1m': 'rating',
  csv: 'interaction',
};

export const MAX_TYPE_LENGTH = 64;

export enum ImportErrorCode {
  FileNotFound = 'FILE_NOT_FOUND',
  UnknownFormat = 'UNKNOWN_FORMAT',
  InvalidType = 'INVALID_TYPE',
}

export class ImportException extends Error {
  constructor(
    readonly code: ImportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type ImportFileOptions = ImportTarget & {
  path: string;
  format: InteractionFormat | string;
  /** Interaction type of every row; default `rating` for MovieLens, `interaction` for csv. */
  type?: string;
  onProgress?: (progress: ImportProgress) => void;
};

/**
 * Imports an interaction file: streams it (validated line by line) through COPY into a temp
 * staging table, then merges it into users, items and interactions, all in ONE transaction. A bad
 * line throws "line N: reason" and imports nothing. Re-importing the same file changes nothing:
 * rows with an already stored (user, item, type, occurred_at) are skipped, and a row without a
 * timestamp gets a fixed one (1970-01-01T00:00:00Z), so its key is the same on every import.
 */
export async function importInteractionFile(options: ImportFileOptions): Promise<ImportResult> {
  const { path, format } = options;
  if (!isInteractionFormat(format)) {
    throw new ImportException(ImportErrorCode.UnknownFormat, `unknown format "${format}" (known: movielens-100k, movielens-1m, csv)`);
  }
  const type = checkType(options.type ?? DEFAULT_TYPE_BY_FORMAT[format]);
  await checkReadableFile(path);
  const counter: RowCounter = { rows: 0 };
  return importStagedRows(options, {
    chunks: interactionFileCopyChunks(path, format, counter),
    columns: FILE_STAGING_COLUMNS,
    defaultType: type,
    counter,
    onProgress: options.onProgress,
  });
}

export interface StagedRowsSource {
  /** COPY text-format rows for the given staging columns. */
  chunks: AsyncIterable<string | Buffer>;
  columns: readonly StagingColumn[];
  /** Type of the rows whose type column is absent or null. */
  defaultType: string;
  /** Updated by the producer as it yields, for progress. */
  counter: RowCounter;
  onProgress?: (progress: ImportProgress) => void;
}

/**
 * The shared import path (files and synthetic data): COPY into staging, merge, one transaction.
 * Exposed so generated data goes through the same code as files, with per-row types.
 */
export async function importStagedRows(target: ImportTarget, source: StagedRowsSource): Promise<ImportResult> {
  checkType(source.defaultType);
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  return withClient(target, async (client) => {
    const staging = new InteractionStagingRepository(client);
    await client.query('BEGIN');
    try {
      await staging.createStagingTable();
      const reported = reportProgress(source, elapsed);
      const rows = await staging.copyIntoStaging(reported, source.columns);
      const copy = elapsed();
      const users = await staging.insertMissingUsers();
      const usersDone = elapsed();
      const items = await staging.insertMissingItems();
      const itemsDone = elapsed();
      const inserted = await staging.insertInteractions(source.defaultType);
      const interactionsDone = elapsed();
      await client.query('COMMIT');
      const seconds = elapsed();
      return {
        rows,
        inserted,
        duplicates: rows - inserted,
        users,
        items,
        seconds,
        phases: {
          copy: round(copy),
          users: round(usersDone - copy),
          items: round(itemsDone - usersDone),
          interactions: round(interactionsDone - itemsDone),
        },
      };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

async function* reportProgress(source: StagedRowsSource, elapsed: () => number): AsyncGenerator<string | Buffer> {
  for await (const chunk of source.chunks) {
    yield chunk;
    source.onProgress?.({ rows: source.counter.rows, seconds: elapsed() });
  }
}

async function withClient<T>(target: ImportTarget, work: (client: ClientBase) => Promise<T>): Promise<T> {
  if (target.pool) {
    const client: PoolClient = await target.pool.connect();
    let failed = false;
    try {
      return await work(client);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // after a failed COPY the session state is not worth trusting: drop the connection
      client.release(failed);
    }
  }
  const client = new Client({ connectionString: target.url, application_name: 'recoder-import' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function checkType(type: string): string {
  if (type.trim() === '' || type.length > MAX_TYPE_LENGTH) {
    throw new ImportException(ImportErrorCode.InvalidType, `type must be 1 to ${MAX_TYPE_LENGTH} characters`);
  }
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
