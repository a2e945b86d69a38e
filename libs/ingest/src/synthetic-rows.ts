import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { INTERACTION_TYPES, SyntheticInteractions, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { RowCounter } from './file-copy-chunks';
import { StagingColumn } from './interaction-staging.repository';

/** Rows per yielded string: big enough to amortise the stream machinery, small enough to stay cheap. */
const ROWS_PER_CHUNK = 50_000;

export const SYNTHETIC_CSV_HEADER = 'user,item,weight,timestamp';
/** Synthetic rows carry their own type (view, click, purchase), unlike files. */
export const SYNTHETIC_STAGING_COLUMNS: readonly StagingColumn[] = ['user_ext', 'item_ext', 'weight', 'occurred_at', 'type'];

/** Synthetic interactions as staging rows in COPY text format (synthetic ids need no escaping). */
export async function* syntheticCopyChunks(data: SyntheticInteractions, counter: RowCounter = { rows: 0 }, limit = Infinity): AsyncGenerator<string> {
  yield* chunked(data, limit, counter, (k) =>
    `${syntheticUserId(data.user[k])}\t${syntheticItemId(data.item[k])}\t${data.weight[k]}\t${data.occurredAt[k]}\t${INTERACTION_TYPES[data.type[k]]}\n`,
  );
}

/** The same rows as the csv import format (`user,item,weight,timestamp`); the type is not part of it. */
export async function* syntheticCsvChunks(data: SyntheticInteractions, limit = Infinity): AsyncGenerator<string> {
  yield `${SYNTHETIC_CSV_HEADER}\n`;
  yield* chunked(data, limit, { rows: 0 }, (k) =>
    `${syntheticUserId(data.user[k])},${syntheticItemId(data.item[k])},${data.weight[k]},${data.occurredAt[k]}\n`,
  );
}

/** Writes the csv to a file; returns the data rows written. */
export async function writeSyntheticCsv(data: SyntheticInteractions, path: string, limit = Infinity): Promise<number> {
  await pipeline(syntheticCsvChunks(data, limit), createWriteStream(path));
  return Math.min(limit, data.user.length);
}

async function* chunked(data: SyntheticInteractions, limit: number, counter: RowCounter, line: (k: number) => string): AsyncGenerator<string> {
  const total = Math.min(limit, data.user.length);
  for (let start = 0; start < total; start += ROWS_PER_CHUNK) {
    const end = Math.min(total, start + ROWS_PER_CHUNK);
    const out: string[] = new Array(end - start);
    for (let k = start; k < end; k++) out[k - start] = line(k);
    counter.rows = end;
    yield out.join('');
  }
}
