import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { INTERACTION_TYPES, SyntheticInteractions, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { ImportProgress, ImportResult, ImportTarget, importStagedRows } from './copy-import';
import { StagingColumn } from './interaction-staging.repository';

/** Rows per yielded string: big enough to amortise the stream machinery, small enough to stay cheap. */
const ROWS_PER_CHUNK = 50_000;

export const SYNTHETIC_CSV_HEADER = 'user,item,weight,timestamp';
/** Synthetic rows carry their own type (view, click, purchase), unlike files. */
const SYNTHETIC_STAGING_COLUMNS: readonly StagingColumn[] = ['user_idx', 'item_idx', 'weight', 'occurred_at', 'type'];
const SYNTHETIC_DEFAULT_TYPE = INTERACTION_TYPES[0];

/**
 * Writes synthetic interactions through the bulk import path (COPY, one transaction). All its users
 * and items are created, including items nobody drew: the catalogue is `items` long. Idempotent:
 * the same seed gives the same rows, which are then all duplicates.
 */
export async function importSynthetic(
  target: ImportTarget,
  data: SyntheticInteractions,
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportResult> {
  let rows = 0;
  const chunks = chunked(
    data,
    Infinity,
    (n) => (rows = n),
    (k) =>
      // synthetic indexes are the dictionary indexes: the ids below are listed in index order
      `${data.user[k]}\t${data.item[k]}\t${data.weight[k]}\t${data.occurredAt[k]}\t${INTERACTION_TYPES[data.type[k]]}\n`,
  );
  return importStagedRows(target, {
    chunks,
    columns: SYNTHETIC_STAGING_COLUMNS,
    defaultType: SYNTHETIC_DEFAULT_TYPE,
    rowsSoFar: () => rows,
    userIds: () => Array.from({ length: data.users }, (_, u) => syntheticUserId(u)),
    itemIds: () => Array.from({ length: data.items }, (_, i) => syntheticItemId(i)),
    // the generator draws distinct items per user
    mayRepeatKeys: () => false,
    onProgress,
  });
}

/** The rows as the csv import format (`user,item,weight,timestamp`); the type is not part of it. */
export async function* syntheticCsvChunks(data: SyntheticInteractions, limit = Infinity): AsyncGenerator<string> {
  yield `${SYNTHETIC_CSV_HEADER}\n`;
  yield* chunked(
    data,
    limit,
    () => undefined,
    (k) =>
      `${syntheticUserId(data.user[k])},${syntheticItemId(data.item[k])},${data.weight[k]},${data.occurredAt[k]}\n`,
  );
}

/** Writes the csv to a file; returns the data rows written. */
export async function writeSyntheticCsv(data: SyntheticInteractions, path: string, limit = Infinity): Promise<number> {
  await pipeline(syntheticCsvChunks(data, limit), createWriteStream(path));
  return Math.min(limit, data.user.length);
}

// eslint-disable-next-line @typescript-eslint/require-await -- rows from memory, as the AsyncIterable COPY streams from
async function* chunked(
  data: SyntheticInteractions,
  limit: number,
  done: (rows: number) => void,
  line: (k: number) => string,
): AsyncGenerator<string> {
  const total = Math.min(limit, data.user.length);
  for (let start = 0; start < total; start += ROWS_PER_CHUNK) {
    const end = Math.min(total, start + ROWS_PER_CHUNK);
    const out = new Array<string>(end - start);
    for (let k = start; k < end; k++) out[k - start] = line(k);
    done(end);
    yield out.join('');
  }
}
