/**
 * Exporting 100,000 user embeddings of dimension 600 (the default model's) from Redis with the
 * worker's export code: vectors/s, MB/s and the peak RSS growth while it runs (the export streams;
 * it must not hold every vector). Redis db 12, files under bench/results/.
 * npm run bench:export [-- --users 100000 --dim 600 --format npy|ndjson|parquet]
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { EnvVars } from '@app/config';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { ExportFormat, exportWriterOf, type ExportManifest } from '@app/export';
import { createRng } from '@app/random';
import { ExportService } from '../apps/jobs/src/export/export.service';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { emit } from './lib/api-process';

const VERSION = 777;
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

async function exportInChild(format: ExportFormat, dir: string): Promise<void> {
  Logger.overrideLogger(false); // stdout carries the result
  const redis = new Redis('redis://127.0.0.1:6379/12');
  const sut = new ExportService(new EmbeddingStoreRepository(redis), Object.assign(new EnvVars(), { EXPORT_DIR: dir }));
  global.gc?.();
  const before = rssMb();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 10);
  const started = performance.now();
  const manifest = await sut.run('bench', { kind: 'user', format, version: VERSION }, () => Promise.resolve());
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  redis.disconnect();
  process.stdout.write(JSON.stringify({ manifest, seconds, peakGrowth: Math.max(peak, rssMb()) - before }));
}

if (process.argv[2] === '--child') void exportInChild(process.argv[3] as ExportFormat, process.argv[4]);
else
  runCli(async (args) => {
    const flags = parseFlags(args, ['users', 'dim', 'format']);
    const users = Number(flags.users ?? 100_000);
    const dim = Number(flags.dim ?? 600);
    const format = (flags.format ?? ExportFormat.NPY) as ExportFormat;
    if (!exportWriterOf(format)) throw new UsageError(`--format: one of ${Object.values(ExportFormat).join(', ')}`);
    const redis = new Redis('redis://127.0.0.1:6379/12');
    const store = new EmbeddingStoreRepository(redis);
    const dir = join(__dirname, 'results', 'exports');
    try {
      await store.deleteVersion(VERSION);
      const rng = createRng(3);
      const chunk = 10_000;
      for (let start = 0; start < users; start += chunk) {
        const n = Math.min(chunk, users - start);
        const vectors = Float32Array.from({ length: n * dim }, () => rng.normal());
        await store.writeVectors(VERSION, 'user', {
          ids: Array.from({ length: n }, (_, k) => `u${start + k}`),
          dim,
          vectors,
        });
      }
      await store.writeMeta(VERSION, {
        dim,
        itemDim: dim,
        users,
        items: 0,
        trainedAt: new Date().toISOString(),
        modelHash: 'bench',
        topItems: null,
        similarItems: null,
      });

      await rm(dir, { recursive: true, force: true });
      // the export runs in a fresh process, so its RSS shows what the export itself holds
      const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', format, dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (child.status !== 0) throw new Error('export child failed');
      const { manifest, seconds, peakGrowth } = JSON.parse(child.stdout.toString()) as {
        manifest: ExportManifest;
        seconds: number;
        peakGrowth: number;
      };
      const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
      emit({
        bench: 'export',
        format,
        vectors: manifest.count,
        dim,
        seconds: +seconds.toFixed(2),
        vectors_per_s: Math.round(manifest.count / seconds),
        mb_per_s: +(bytes / 2 ** 20 / seconds).toFixed(1),
        peak_rss_growth_mb: Math.round(peakGrowth),
      });
    } finally {
      await store.deleteVersion(VERSION);
      redis.disconnect();
    }
    return undefined;
  });
