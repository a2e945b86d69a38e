import { ExportWriter } from './export-writer';
import { ndjsonWriter } from './writers/ndjson.writer';
import { npyWriter } from './writers/npy.writer';
import { parquetWriter } from './writers/parquet.writer';

/**
 * The export formats: GraphQL shows the keys; the values name the format in job payloads, deduplication
 * ids and manifests. Adding a format is a writer under writers/ and one line in each of the two lists
 * below (the compiler refuses a format without a writer).
 */
export enum ExportFormat {
  NPY = 'npy',
  NDJSON = 'ndjson',
  PARQUET = 'parquet',
}

export const EXPORT_WRITERS: { readonly [F in ExportFormat]: ExportWriter } = {
  [ExportFormat.NPY]: npyWriter,
  [ExportFormat.NDJSON]: ndjsonWriter,
  [ExportFormat.PARQUET]: parquetWriter(),
};

/** The writer of a format named in a job's payload; undefined for a name no writer has (a job queued by another release). */
export const exportWriterOf = (format: string): ExportWriter | undefined =>
  Object.hasOwn(EXPORT_WRITERS, format) ? EXPORT_WRITERS[format as ExportFormat] : undefined;
