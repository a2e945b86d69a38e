import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EnvVars } from '@app/config';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { exportDirName, ExportManifest, exportWriterOf, MANIFEST_FILE } from '@app/export';
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
    if (!meta)
      throw new ExportInputError(`Version ${payload.version} has no embeddings in Redis (never published, or retired)`);
    const dim = payload.kind === 'user' ? meta.dim : meta.itemDim;
    const expected = payload.kind === 'user' ? meta.users : meta.items;
    // each row's place on the version's 2-D map too, when it has one (every version since maps exist)
    const map = await this.store.readMap(payload.version, payload.kind);

    const writer = exportWriterOf(payload.format);
    if (!writer) throw new ExportInputError(`No export format ${JSON.stringify(payload.format)}`);

    const partial = `${final}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    try {
      const written = await writer.write(partial, {
        dim,
        map,
        batches: this.store.scanVectors(payload.version, payload.kind, new Set()),
        progress: (rows) => report(progress(rows, expected)),
      });
      const manifest: ExportManifest = {
        version: payload.version,
        kind: payload.kind,
        dim,
        count: written.count,
        format: payload.format,
        created_at: new Date().toISOString(),
        files: await Promise.all(
          written.files.map(async (name) => ({
            name,
            bytes: (await stat(join(partial, name))).size,
            sha256: await sha256Of(join(partial, name)),
          })),
        ),
      };
      await writeFile(join(partial, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
      // one rename: the export appears whole or not at all
      await rename(partial, final);
      this.logger.log(
        `export ${jobId}: ${manifest.count} ${payload.kind} vectors of v${payload.version} as ${payload.format}`,
      );
      return manifest;
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw err;
    }
  }
}

const progress = (done: number, total: number): ExportProgress => ({
  done,
  total,
  percent: total ? Math.min(100, (100 * done) / total) : 100,
});

function sha256Of(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}
