import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { copyBinaryColumnTo } from './copy-binary-column';
import { inReadSnapshot } from './read-snapshot';

const INDEX_CHUNK_BYTES = 32 * 2 ** 20;
/** What a file name may be: it becomes a path on disk and is inlined in a COPY. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export interface StoredIndexFile {
  file: string;
  bytes: number;
}

/**
 * A version's approximate item index (the files `ItemIndex.save` writes), stored in 32 MB chunks
 * beside its weights: see the ModelIndexFiles migration. Files are streamed in and out a chunk at
 * a time, never whole: they reach gigabytes at 1M items.
 */
@Injectable()
export class ModelIndexRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Stores the files `dir` holds under `files`, replacing what the version had, in one transaction:
   * a write cut off midway leaves the version with no index, never half of one.
   */
  async save(version: number, dir: string, files: readonly string[]): Promise<number> {
    for (const file of files) checkName(file);
    const buffer = Buffer.allocUnsafe(INDEX_CHUNK_BYTES);
    let bytes = 0;
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM model_index_chunks WHERE version = $1', [version]);
      for (const file of files) {
        const handle = await open(join(dir, file), 'r');
        try {
          for (let seq = 0; ; seq++) {
            const { bytesRead } = await handle.read(buffer, 0, INDEX_CHUNK_BYTES, null);
            // an empty file still gets its row: it is one of the index's files
            if (bytesRead === 0 && seq > 0) break;
            await tx.query('INSERT INTO model_index_chunks (version, file, seq, data) VALUES ($1, $2, $3, $4)', [
              version,
              file,
              seq,
              buffer.subarray(0, bytesRead),
            ]);
            bytes += bytesRead;
            if (bytesRead < INDEX_CHUNK_BYTES) break;
          }
        } finally {
          await handle.close();
        }
      }
    });
    return bytes;
  }

  /** The version's index files and their sizes; none when it has no index. */
  async files(version: number): Promise<StoredIndexFile[]> {
    const rows = await this.db.query<{ file: string; bytes: string }[]>(
      'SELECT file, sum(octet_length(data))::int8 AS bytes FROM model_index_chunks WHERE version = $1 GROUP BY file ORDER BY file',
      [version],
    );
    return rows.map((r) => ({ file: r.file, bytes: Number(r.bytes) }));
  }

  /**
   * Writes the version's index files into `dir` (which must exist), a chunk at a time by COPY
   * BINARY (no hex text), all from one snapshot; returns them, or null when the version has no
   * index. One statement per chunk, so each stays within the API's statement timeout.
   */
  async copyTo(version: number, dir: string): Promise<StoredIndexFile[] | null> {
    if (!Number.isSafeInteger(version)) throw new Error(`not a model version: ${version}`);
    return inReadSnapshot(this.db, async (client) => {
      const { rows } = await client.query<{ file: string; chunks: number; bytes: string }>(
        'SELECT file, count(*)::int AS chunks, sum(octet_length(data))::int8 AS bytes FROM model_index_chunks WHERE version = $1 GROUP BY file ORDER BY file',
        [version],
      );
      if (rows.length === 0) return null;
      for (const { file, chunks, bytes } of rows) {
        checkName(file);
        const handle = await open(join(dir, file), 'w');
        let written = 0;
        try {
          for (let seq = 0; seq < chunks; seq++) {
            // COPY takes no parameters: the version is an integer and the name matched FILE_NAME
            const copy = client.query(
              copyTo(
                `COPY (SELECT data FROM model_index_chunks WHERE version = ${version} AND file = '${file}' AND seq = ${seq}) TO STDOUT (FORMAT binary)`,
              ),
            );
            written += await copyBinaryColumnTo(copy, async (piece) => {
              await handle.write(piece);
            });
          }
        } finally {
          await handle.close();
        }
        if (written !== Number(bytes)) throw new Error(`index file ${file} of version ${version} is incomplete`);
      }
      return rows.map((r) => ({ file: r.file, bytes: Number(r.bytes) }));
    });
  }

  clear(version: number): Promise<unknown> {
    return this.db.query('DELETE FROM model_index_chunks WHERE version = $1', [version]);
  }

  /** Deletes the index of every version but `keep`; returns the versions whose index went. */
  async clearAllBut(keep: readonly number[]): Promise<number[]> {
    const [rows] = await this.db.query<[{ version: number }[], number]>(
      'DELETE FROM model_index_chunks WHERE NOT (version = ANY($1::int[])) RETURNING version',
      [keep],
    );
    return [...new Set(rows.map((r) => r.version))].sort((a, b) => a - b);
  }
}

function checkName(file: string): void {
  if (!FILE_NAME.test(file)) throw new Error(`not an index file name: ${JSON.stringify(file)}`);
}
