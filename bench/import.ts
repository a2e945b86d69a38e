/**
 * Import speed: the real import path (COPY into staging, merge into the indexed schema, one
 * transaction) on a synthetic csv of 1,000,000 rows in a fresh database, against a bare
 * `psql \copy` of the same file into an unindexed table. Prints one JSON line per measurement and
 * their ratio; then the worker's popularity recount over the imported rows, first and again (the
 * scheduled case: nothing changed). The csv is generated once under bench/results/ (gitignored) and reused.
 * npm run bench:import [-- --rows 1000000 --reimport]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { getEnv } from '@app/config';
import { CatalogueRepository, createDataSource, migrate } from '@app/database';
import { importInteractionFile, writeSyntheticCsv } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { parseFlags, runCli, UsageError } from '../scripts/cli';

const DEFAULT_ROWS = 1_000_000;
const RESULTS_DIR = join(__dirname, 'results');
const BENCH_DATABASE = 'recoder_bench_import';
const SEED = 1;
const ITEMS = 20_000;
const PER_USER = 40;
/** Targets from the foundation issue. */
const TARGET_ROWS_PER_S = 150_000;
const TARGET_PSQL_RATIO = 2;

runCli(async (args) => {
  const flags = parseFlags(args, ['rows', 'reimport']);
  const rows = Number(flags.rows ?? DEFAULT_ROWS);
  if (!Number.isInteger(rows) || rows < 1) throw new UsageError('--rows must be a positive integer');

  const file = await syntheticCsv(rows);
  const url = benchDatabaseUrl(getEnv().DATABASE_URL);
  await recreateDatabase(url);
  await migrate(url);

  await checkpoint(url);
  const imported = await importInteractionFile({ url, path: file, format: 'csv' });
  if (imported.inserted !== rows) throw new Error(`imported ${imported.inserted} of ${rows} rows`);
  print({
    bench: 'import',
    ...rate(imported.rows, imported.seconds),
    inserted: imported.inserted,
    phases: imported.phases,
    fk_checks_skipped: imported.foreignKeyChecksSkipped,
  });

  if (flags.reimport === 'true') {
    await checkpoint(url);
    const again = await importInteractionFile({ url, path: file, format: 'csv' });
    print({ bench: 'reimport', ...rate(again.rows, again.seconds), inserted: again.inserted, phases: again.phases });
  }

  await recountPopularity(url, rows);

  await checkpoint(url);
  const psqlSeconds = await psqlCopy(url, file);
  print({ bench: 'psql_copy', ...rate(rows, psqlSeconds) });

  const ratio = imported.seconds / psqlSeconds;
  print({
    bench: 'ratio',
    import_over_psql_copy: round(ratio, 2),
    meets_rows_per_s: imported.rows / imported.seconds >= TARGET_ROWS_PER_S,
    meets_psql_ratio: ratio <= TARGET_PSQL_RATIO,
    // the machine may be shared: a busy one explains a slow run
    cpus: cpus().length,
    load_1m: round(loadavg()[0], 2),
  });
  return undefined;
});

/** The scheduled job's recount (one grouped count, changed counts written), timed on the imported rows. */
async function recountPopularity(url: string, rows: number): Promise<void> {
  const ds = await createDataSource(url).initialize();
  try {
    const catalogue = new CatalogueRepository(ds);
    for (const run of ['first', 'unchanged']) {
      const started = performance.now();
      const counted = await catalogue.recountPopularity();
      print({
        bench: 'popularity_recount',
        run,
        interactions: rows,
        ...counted,
        seconds: round((performance.now() - started) / 1000, 2),
      });
    }
  } finally {
    await ds.destroy();
  }
}

async function syntheticCsv(rows: number): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `synthetic-${rows}-seed${SEED}.csv`);
  if (existsSync(file)) return file;
  // ~10% more users than needed, so the generated data always covers the requested rows
  const data = generateSynthetic({
    users: Math.ceil((rows / PER_USER) * 1.1),
    items: ITEMS,
    seed: SEED,
    perUser: PER_USER,
  });
  if (data.user.length < rows) throw new Error(`generated only ${data.user.length} rows`);
  // write under a temporary name: an interrupted run never leaves a truncated file to reuse
  const partial = `${file}.partial`;
  await writeSyntheticCsv(data, partial, rows);
  await import('node:fs/promises').then((fs) => fs.rename(partial, file));
  process.stderr.write(`wrote ${file}\n`);
  return file;
}

function benchDatabaseUrl(base: string): string {
  const url = new URL(base);
  url.pathname = `/${BENCH_DATABASE}`;
  return url.toString();
}

async function recreateDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  await withClient(admin.toString(), async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
  });
}

// start each measurement with no dirty buffers from the previous one
async function checkpoint(url: string): Promise<void> {
  await withClient(url, (client) => client.query('CHECKPOINT').then(() => undefined));
}

/** Times `psql -c "\copy t FROM file CSV HEADER"` into a fresh unindexed table of the same columns. */
async function psqlCopy(url: string, file: string): Promise<number> {
  await withClient(url, async (client) => {
    await client.query('DROP TABLE IF EXISTS t');
    await client.query('CREATE TABLE t (user_ext text, item_ext text, weight real, occurred_at bigint)');
  });
  const { hostname, port, username } = new URL(url);
  const args = [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    hostname,
    '-p',
    port || '5432',
    '-U',
    decodeURIComponent(username) || 'postgres',
    '-d',
    BENCH_DATABASE,
  ];
  const command = `\\copy t FROM '${file.replace(/'/g, "''")}' CSV HEADER`;
  const started = process.hrtime.bigint();
  await run('psql', [...args, '-c', command]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const copied = await withClient(url, (client) => client.query<{ n: number }>('SELECT count(*)::int AS n FROM t'));
  process.stderr.write(`psql copied ${copied.rows[0].n} rows\n`);
  return seconds;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
  });
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function rate(rows: number, seconds: number) {
  return { rows, seconds: round(seconds, 3), rows_per_s: Math.round(rows / seconds) };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function print(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
