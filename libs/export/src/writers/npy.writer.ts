import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { projectOnMap } from '@app/model';
import { checkedBytes, ExportWriter } from '../export-writer';
import { NPY_HEADER_BYTES, npyFloat32Header } from '../npy';

/** vectors.npy (float32, rows x dim), ids.txt (one id a line, same order), map.npy (rows x 2, same order). */
export const npyWriter: ExportWriter = {
  description:
    "vectors.npy (float32, rows x dim), ids.txt in the same order, and map.npy (each row's 2-D map coordinates, rows x 2).",

  async write(dir, { dim, map, batches, progress }) {
    const data = await open(join(dir, 'vectors.npy'), 'w');
    const ids = await open(join(dir, 'ids.txt'), 'w');
    const coords = map && (await open(join(dir, 'map.npy'), 'w'));
    const mapDim = map?.components.length ?? 0;
    let rows = 0;
    try {
      await data.write(npyFloat32Header(0, dim), 0, NPY_HEADER_BYTES, 0);
      await coords?.write(npyFloat32Header(0, mapDim), 0, NPY_HEADER_BYTES, 0);
      // positional writes throughout: a write at a given position does not move the file offset
      let block = Buffer.alloc(0); // reused across batches: the export allocates little as it streams
      for await (const batch of batches) {
        const bytes = batch.length * dim * 4;
        if (block.length < bytes) block = Buffer.alloc(bytes);
        batch.forEach((v, r) => checkedBytes(v, dim).copy(block, r * dim * 4));
        await data.write(block, 0, bytes, NPY_HEADER_BYTES + rows * dim * 4);
        if (coords) {
          const vectors = new Float32Array(block.buffer, block.byteOffset, batch.length * dim);
          const placed = new Float32Array(batch.length * mapDim);
          for (let r = 0; r < batch.length; r++)
            placed.set(projectOnMap(map, vectors.subarray(r * dim, (r + 1) * dim)), r * mapDim);
          await coords.write(Buffer.from(placed.buffer), 0, placed.byteLength, NPY_HEADER_BYTES + rows * mapDim * 4);
        }
        await ids.write(batch.map((v) => `${v.id}\n`).join(''));
        rows += batch.length;
        await progress(rows);
      }
      // the row count is known only now: rewrite the fixed-size headers in place
      await data.write(npyFloat32Header(rows, dim), 0, NPY_HEADER_BYTES, 0);
      await coords?.write(npyFloat32Header(rows, mapDim), 0, NPY_HEADER_BYTES, 0);
    } finally {
      await data.close();
      await ids.close();
      await coords?.close();
    }
    return { count: rows, files: ['vectors.npy', 'ids.txt', ...(coords ? ['map.npy'] : [])] };
  },
};
