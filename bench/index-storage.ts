import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource, migrate, ModelIndexRepository } from '@app/database';
import { parseFlags, runCli, UsageError } from '../scripts/cli';

/**
 * What storing a version's item index costs: files of `--mb` MB (random bytes: an HNSW graph does
 * not compress) written into Postgres by ModelIndexRepository.save and copied back to local disk
 * by copyTo, as the worker and each API process do; seconds and MB/s each way, and the API's
 * peak RSS growth while copying (the copy is streamed a chunk at a time, so it stays near one
 * chunk). Runs in a database of its own (`--database-url`, default recoder_bench_index), created and
 * migrated if needed, so no real version is touched. JSON lines.
 */
const FLAGS = ['mb', 'files', 'database-url'];
const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/recoder_bench_index';

async function main(args: string[]): Promise<unknown> {
  const flags = parseFlags(args, FLAGS);
  const mb = Number(flags.mb ?? 1024);
  const files = Number(flags.files ?? 2);
  if (!(mb > 0) || !Number.isInteger(files) || files < 1) throw new UsageError('--mb and --files must be positive');
  const url = flags['database-url'] ?? DEFAULT_URL;
  await migrate(url);
  const ds = createDataSource(url);
  await ds.initialize();
  const db = new Client({ connectionString: url });
  await db.connect();
  const from = mkdtempSync(join(tmpdir(), 'recoder-bench-index-from-'));
  const to = mkdtempSync(join(tmpdir(), 'recoder-bench-index-to-'));
  const line = (fields: Record<string, unknown>) =>
    process.stdout.write(
      `${JSON.stringify({ bench: 'index_storage', ...fields, cpu: cpus()[0]?.model, cores: cpus().length, load: +loadavg()[0].toFixed(2) })}\n`,
    );
  try {
    const { rows } = await db.query<{ version: number }>(
      `INSERT INTO model_versions (status, config) VALUES ('FAILED', '{"bench":"index-storage"}') RETURNING version`,
    );
    const version = rows[0].version;
    const names = Array.from({ length: files }, (_, f) => `file-${f}.usearch`);
    const block = Buffer.allocUnsafe(8 * 2 ** 20);
    for (const name of names) {
      const fd = openSync(join(from, name), 'w');
      for (let left = Math.round((mb * 2 ** 20) / files); left > 0; left -= block.length)
        writeSync(fd, randomFillSync(block), 0, Math.min(left, block.length));
      closeSync(fd);
    }
    const indexes = new ModelIndexRepository(ds);
    const rss = () => process.memoryUsage().rss / 2 ** 20;
    let t = performance.now();
    const bytes = await indexes.save(version, from, names);
    const saveSeconds = (performance.now() - t) / 1000;
    line({
      phase: 'save',
      mb: +(bytes / 2 ** 20).toFixed(1),
      files,
      seconds: +saveSeconds.toFixed(2),
      mbPerSecond: +(bytes / 2 ** 20 / saveSeconds).toFixed(1),
    });

    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 50);
    t = performance.now();
    await indexes.copyTo(version, to);
    const copySeconds = (performance.now() - t) / 1000;
    clearInterval(sampler);
    line({
      phase: 'copy',
      mb: +(bytes / 2 ** 20).toFixed(1),
      files,
      seconds: +copySeconds.toFixed(2),
      mbPerSecond: +(bytes / 2 ** 20 / copySeconds).toFixed(1),
      rssGrowthMb: +(peak - before).toFixed(0),
    });
    await db.query('DELETE FROM model_versions WHERE version = $1', [version]);
  } finally {
    rmSync(from, { recursive: true, force: true });
    rmSync(to, { recursive: true, force: true });
    await db.end();
    await ds.destroy();
  }
  return undefined;
}

runCli(main);
