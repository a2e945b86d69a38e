import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { projectOnMap } from '@app/model';
import { ExportWriter, vectorOf } from '../export-writer';

/** vectors.ndjson: {"id": ..., "vector": [...], "map": [x, y]} a line ("map" when the version has one). */
export const ndjsonWriter: ExportWriter = {
  description: 'vectors.ndjson: one {"id", "vector", "map"} a line ("map": the row\'s 2-D map coordinates).',

  async write(dir, { dim, map, batches, progress }) {
    const out = await open(join(dir, 'vectors.ndjson'), 'w');
    let rows = 0;
    try {
      for await (const batch of batches) {
        const lines = batch.map((row) => {
          const vector = vectorOf(row, dim);
          return JSON.stringify(
            map
              ? { id: row.id, vector: Array.from(vector), map: projectOnMap(map, vector) }
              : { id: row.id, vector: Array.from(vector) },
          );
        });
        await out.write(`${lines.join('\n')}\n`);
        rows += batch.length;
        await progress(rows);
      }
    } finally {
      await out.close();
    }
    return { count: rows, files: ['vectors.ndjson'] };
  },
};
