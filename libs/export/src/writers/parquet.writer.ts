import { closeSync, openSync, readSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { ExportWriter } from '../export-writer';
import { NPY_HEADER_BYTES } from '../npy';
import { npyWriter } from './npy.writer';

/**
 * Vector bytes per Parquet row group, at most (whole chunks, at least one): DuckDB holds a row group
 * several times over while it encodes it, so this sets the writer's memory, whatever the row count.
 * At dim 600: 2,048 rows, 4.9 MB (bench:export, docs/scaling.md).
 */
export const ROW_GROUP_BYTES = 8 * 2 ** 20;
/** Rows DuckDB asks a table function for at a time (its vector size). */
const CHUNK_ROWS = 2048;

/**
 * vectors.parquet, written by DuckDB: columns id (STRING), vector (LIST<FLOAT>) and, when the version
 * has a map, map (LIST<FLOAT>, the row's 2-D map coordinates).
 *
 * DuckDB's Parquet writer pulls its rows from a table function, and a table function answers
 * synchronously, so it cannot wait on Redis: the rows are first streamed to NPY files in a scratch
 * directory (the NPY writer, at disk speed) and the table function reads them back a chunk at a time.
 * DuckDB writes a row group once it holds rowGroupBytes of vectors: memory holds one row group,
 * never a whole column. The scratch files cost the export's size again on disk while it runs.
 */
export const parquetWriter = (rowGroupBytes = ROW_GROUP_BYTES): ExportWriter => ({
  description:
    "vectors.parquet: columns id (STRING), vector (LIST<FLOAT>) and map (LIST<FLOAT>, the row's 2-D map coordinates), one row per vector.",

  async write(dir, rows) {
    const scratch = join(dir, '.parquet-source');
    await mkdir(scratch);
    try {
      const { count, files } = await npyWriter.write(scratch, rows);
      const mapDim = files.includes('map.npy') ? (rows.map?.components.length ?? 0) : 0;
      // DuckDB closes a row group at a chunk's end: whole chunks, at least one
      const rowGroupRows = Math.max(1, Math.floor(rowGroupBytes / (4 * rows.dim * CHUNK_ROWS))) * CHUNK_ROWS;
      await npyToParquet(scratch, join(dir, 'vectors.parquet'), { rows: count, dim: rows.dim, mapDim, rowGroupRows });
      return { count, files: ['vectors.parquet'] };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
});

interface Shape {
  rows: number;
  dim: number;
  /** Map coordinates a row, 0 when there is no map.npy. */
  mapDim: number;
  rowGroupRows: number;
}

/** The NPY writer's files in source as one Parquet file at path; DuckDB spills to source if it must. */
async function npyToParquet(source: string, path: string, shape: Shape): Promise<void> {
  // loaded here, not at import: the API imports this library for the format names and never writes Parquet
  const duckdb = await import('@duckdb/node-api');
  const instance = await duckdb.DuckDBInstance.create(':memory:', {
    threads: '1',
    memory_limit: '128MB',
    temp_directory: source,
  });
  const connection = await instance.connect();
  const reader = new NpyRowReader(source, shape);
  try {
    const floats = duckdb.LIST(duckdb.FLOAT);
    const asList = (values: Float32Array) => duckdb.listValue(Array.from(values));
    connection.registerTableFunction(
      duckdb.DuckDBTableFunction.create({
        name: 'exported_rows',
        bindFunction: (bind) => {
          bind.addResultColumn('id', duckdb.VARCHAR);
          bind.addResultColumn('vector', floats);
          if (shape.mapDim) bind.addResultColumn('map', floats);
          bind.setCardinality(shape.rows, true);
        },
        // one thread reads the files in order, so the rows keep the order of ids
        initFunction: (init) => init.setMaxThreads(1),
        mainFunction: (info, out) => {
          try {
            const chunk = reader.next(CHUNK_ROWS);
            out.rowCount = chunk.ids.length;
            if (!chunk.ids.length) return;
            out.setColumnValues(0, chunk.ids);
            out.setColumnValues(1, rowsOf(chunk.vectors, shape.dim).map(asList));
            if (chunk.map) out.setColumnValues(2, rowsOf(chunk.map, shape.mapDim).map(asList));
          } catch (err) {
            out.rowCount = 0;
            info.setError(err instanceof Error ? err.message : String(err));
          }
        },
      }),
    );
    await connection.run(
      `COPY (SELECT * FROM exported_rows()) TO ${sqlString(path)} (FORMAT parquet, ROW_GROUP_SIZE ${shape.rowGroupRows})`,
    );
    if (!reader.done) throw new Error(`parquet export stopped after ${reader.read} of ${shape.rows} rows`);
  } finally {
    reader.close();
    connection.closeSync();
    instance.closeSync();
  }
}

const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

const rowsOf = (values: Float32Array, width: number): Float32Array[] =>
  Array.from({ length: values.length / width }, (_, r) => values.subarray(r * width, (r + 1) * width));

/** Reads the NPY writer's files back in order, a chunk of rows at a time, synchronously. */
class NpyRowReader {
  read = 0;
  private readonly vectors: number;
  private readonly map: number | null;
  private readonly ids: SyncLineReader;

  constructor(
    dir: string,
    private readonly shape: Shape,
  ) {
    this.vectors = openSync(join(dir, 'vectors.npy'), 'r');
    this.map = shape.mapDim ? openSync(join(dir, 'map.npy'), 'r') : null;
    this.ids = new SyncLineReader(openSync(join(dir, 'ids.txt'), 'r'));
  }

  get done(): boolean {
    return this.read === this.shape.rows;
  }

  next(most: number): { ids: string[]; vectors: Float32Array; map: Float32Array | null } {
    const n = Math.min(most, this.shape.rows - this.read);
    const chunk = {
      ids: this.ids.take(n),
      vectors: readRows(this.vectors, this.read, n, this.shape.dim),
      map: this.map === null ? null : readRows(this.map, this.read, n, this.shape.mapDim),
    };
    if (chunk.ids.length !== n)
      throw new Error(`ids.txt ends after ${this.read + chunk.ids.length} of ${this.shape.rows} ids`);
    this.read += n;
    return chunk;
  }

  close(): void {
    closeSync(this.vectors);
    if (this.map !== null) closeSync(this.map);
    this.ids.close();
  }
}

/** Rows [from, from + n) of a float32 NPY file with the NPY writer's fixed-size header. */
function readRows(fd: number, from: number, n: number, width: number): Float32Array {
  const bytes = Buffer.alloc(n * width * 4);
  const got = readSync(fd, bytes, 0, bytes.length, NPY_HEADER_BYTES + from * width * 4);
  if (got !== bytes.length) throw new Error(`npy file ends at row ${from + got / (width * 4)}`);
  return new Float32Array(bytes.buffer, bytes.byteOffset, n * width);
}

/** Lines of a UTF-8 file, n at a time, read in blocks. */
class SyncLineReader {
  private readonly block = Buffer.alloc(64 * 1024);
  private readonly decoder = new StringDecoder('utf8');
  private position = 0;
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly fd: number) {}

  take(n: number): string[] {
    while (this.lines.length < n) {
      const got = readSync(this.fd, this.block, 0, this.block.length, this.position);
      if (got === 0) break;
      this.position += got;
      const parts = (this.partial + this.decoder.write(this.block.subarray(0, got))).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    }
    return this.lines.splice(0, n);
  }

  close(): void {
    closeSync(this.fd);
  }
}
