import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EnvVars } from '@app/config';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { exportDirName, ExportManifest, MANIFEST_FILE, NPY_HEADER_BYTES, npyFloat32Header } from '@app/export';
import { EmbeddingMap, projectOnMap } from '@app/model';
import { ExportProgress, JobName, JobPayloads } from '@app/queue';

type Payload = JobPayloads[JobName.ExportEmbeddings];

export class ExportInputError extends Error {}

/** Streams a version's vectors from Redis to files; a reader only ever sees a finished export. */
@Injectable()
export class ExportService {
  private readonly logger = new Logger(ExportService.name);

  constructor(
    private readonly store: EmbeddingStoreRepository,
    private readonly env: EnvVars,
  ) {}

  async run(jobId: string, payload: Payload, report: (p: ExportProgress) => Promise<void>): Promise<ExportManifest> {
    const root = resolve(this.env.EXPORT_DIR);
    const final = join(root, exportDirName(jobId));
    const existing = await readFile(join(final, MANIFEST_FILE), 'utf8').catch(() => null);
    if (existing) return JSON.parse(existing) as ExportManifest; // a retry of a finished job

    const meta = await this.store.readMeta(payload.version);
    if (!meta) throw new ExportInputError(`Version ${payload.version} has no embeddings in Redis (never published, or retired)`);
    const dim = payload.kind === 'user' ? meta.dim : meta.itemDim;
    const expected = payload.kind === 'user' ? meta.users : meta.items;
    // each row's place on the version's 2-D map too, when it has one (every version since maps exist)
    const map = await this.store.readMap(payload.version, payload.kind);

    const partial = `${final}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    try {
      const files = payload.format === 'npy' ? await this.writeNpy(partial, payload, dim, expected, map, report) : await this.writeNdjson(partial, payload, expected, map, report);
      const manifest: ExportManifest = {
        version: payload.version,
        kind: payload.kind,
        dim,
        count: files.count,
        format: payload.format,
        created_at: new Date().toISOString(),
        files: await Promise.all(files.names.map(async (name) => ({ name, bytes: (await stat(join(partial, name))).size, sha256: await sha256Of(join(partial, name)) }))),
      };
      await writeFile(join(partial, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
      // one rename: the export appears whole or not at all
      await rename(partial, final);
      this.logger.log(`export ${jobId}: ${manifest.count} ${payload.kind} vectors of v${payload.version} as ${payload.format}`);
      return manifest;
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw err;
    }
  }

  /** vectors.npy (float32, rows x dim), ids.txt (one id per line, same order) and map.npy (rows x 2, same order). */
  private async writeNpy(dir: string, p: Payload, dim: number, expected: number, map: EmbeddingMap | null, report: (p: ExportProgress) => Promise<void>) {
    const data = await open(join(dir, 'vectors.npy'), 'w');
    const ids = await open(join(dir, 'ids.txt'), 'w');
    const coords = map && (await open(join(dir, 'map.npy'), 'w'));
    const mapDim = map?.components.length ?? 0;
    let rows = 0;
    try {
      await data.write(npyFloat32Header(0, dim), 0, NPY_HEADER_BYTES, 0);
      await coords?.write(npyFloat32Header(0, mapDim), 0, NPY_HEADER_BYTES, 0);
      // positional writes throughout: a write at a given position does not move the file offset
      let at = NPY_HEADER_BYTES;
      let block = Buffer.alloc(0); // reused across batches: the export allocates little as it streams
      for await (const batch of this.store.scanVectors(p.version, p.kind, new Set())) {
        const bytes = batch.length * dim * 4;
        if (block.length < bytes) block = Buffer.alloc(bytes);
        batch.forEach((v, r) => {
          if (v.blob.length !== dim * 4) throw new Error(`vector of ${v.id} has ${v.blob.length / 4} values, the version ${dim}`);
          v.blob.copy(block, r * dim * 4);
        });
        await data.write(block, 0, bytes, at);
        if (coords) {
          const vectors = new Float32Array(block.buffer, block.byteOffset, batch.length * dim);
          const placed = new Float32Array(batch.length * mapDim);
          for (let r = 0; r < batch.length; r++) placed.set(projectOnMap(map, vectors.subarray(r * dim, (r + 1) * dim)), r * mapDim);
          await coords.write(Buffer.from(placed.buffer), 0, placed.byteLength, NPY_HEADER_BYTES + rows * mapDim * 4);
        }
        at += bytes;
        await ids.write(batch.map((v) => `${v.id}\n`).join(''));
        rows += batch.length;
        await report(progress(rows, expected));
      }
      // the row count is known only now: rewrite the fixed-size headers in place
      await data.write(npyFloat32Header(rows, dim), 0, NPY_HEADER_BYTES, 0);
      await coords?.write(npyFloat32Header(rows, mapDim), 0, NPY_HEADER_BYTES, 0);
    } finally {
      await data.close();
      await ids.close();
      await coords?.close();
    }
    return { count: rows, names: ['vectors.npy', 'ids.txt', ...(coords ? ['map.npy'] : [])] };
  }

  /** vectors.ndjson: {"id": ..., "vector": [...], "map": [x, y]} per line ("map" when the version has one). */
  private async writeNdjson(dir: string, p: Payload, expected: number, map: EmbeddingMap | null, report: (p: ExportProgress) => Promise<void>) {
    const out = await open(join(dir, 'vectors.ndjson'), 'w');
    let rows = 0;
    try {
      for await (const batch of this.store.scanVectors(p.version, p.kind, new Set())) {
        const lines = batch.map(({ id, blob }) => {
          const vector = new Float32Array(Uint8Array.from(blob).buffer);
          return JSON.stringify(map ? { id, vector: Array.from(vector), map: projectOnMap(map, vector) } : { id, vector: Array.from(vector) });
        });
        await out.write(`${lines.join('\n')}\n`);
        rows += batch.length;
        await report(progress(rows, expected));
      }
    } finally {
      await out.close();
    }
    return { count: rows, names: ['vectors.ndjson'] };
  }
}

const progress = (done: number, total: number): ExportProgress => ({ done, total, percent: total ? Math.min(100, (100 * done) / total) : 100 });

function sha256Of(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}
