import type { EmbeddingMap } from '@app/model';

/** One stored vector: its id and its float32 values' bytes, as the embedding store reads them. */
export interface StoredVector {
  id: string;
  blob: Buffer;
}

/** What a writer exports: a version's vectors of one kind, in batches, and how to report progress. */
export interface ExportRows {
  /** Values in every vector. */
  dim: number;
  /** The version's 2-D map, or null when it has none: each row's place on it goes with the row. */
  map: EmbeddingMap | null;
  batches: AsyncIterable<StoredVector[]>;
  /** Told the rows written so far after each batch. */
  progress: (rows: number) => Promise<void>;
}

/** One export format: writes every row into files of an empty directory, streaming. */
export interface ExportWriter {
  /** What the files hold, for a reader: shown on the format in the GraphQL schema. */
  readonly description: string;
  write(dir: string, rows: ExportRows): Promise<{ count: number; files: string[] }>;
}

/** A stored vector's bytes, refused when it does not hold the version's dim values. */
export function checkedBytes(row: StoredVector, dim: number): Buffer {
  if (row.blob.length !== dim * 4)
    throw new Error(`vector of ${row.id} has ${row.blob.length / 4} values, the version ${dim}`);
  return row.blob;
}

/** A stored vector's values (a copy: the blob's bytes need not be 4-byte aligned). */
export const vectorOf = (row: StoredVector, dim: number): Float32Array =>
  new Float32Array(Uint8Array.from(checkedBytes(row, dim)).buffer);
