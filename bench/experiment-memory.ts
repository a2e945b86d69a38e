import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { getEnv } from '@app/config';
import { emit, startApi } from './lib/api-process';

// npm run bench:experiment-memory [-- --rounds 3 --port 3900]
// What holding an experiment's canary beside the active model costs an API process: fresh API
// processes on the configured database, alternately with the experiment running (both models) and
// aborted (the active model alone), each measured once both are served. Needs a running experiment
// (e.g. `npm run simulate -- --setup experiment`); it runs again at the end, with a new salt.
const DEFAULTS = { rounds: 3, port: 3900 };
/** After the last model answered: the loads' garbage has a moment to be collected. */
const SETTLE_MS = 5000;
const SERVED_WAIT_MS = 120_000;

async function main(): Promise<void> {
  const flags = parseArgs(process.argv.slice(2));
  const env = getEnv();
  const key = env.ADMIN_API_KEY;
  const db = new Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  const running = await db.query<{ control: number; canary: number; traffic: number }>(
    'SELECT control_version AS control, canary_version AS canary, traffic FROM experiments WHERE ended_at IS NULL',
  );
  if (!running.rows.length)
    throw new Error('no experiment runs: start one first (npm run simulate -- --setup experiment)');
  const { canary, traffic } = running.rows[0];
  const active = (await db.query<{ version: number }>("SELECT version FROM model_versions WHERE status = 'ACTIVE'"))
    .rows[0].version;
  const blobs = await db.query<{ version: number; bytes: string }>(
    'SELECT version, sum(octet_length(data))::int8 AS bytes FROM model_weight_chunks WHERE version = ANY($1) GROUP BY version',
    [[active, canary]],
  );
  await db.end();
  emit({
    bench: 'experiment_memory_setup',
    active,
    canary,
    weights_mb: Object.fromEntries(blobs.rows.map((r) => [`v${r.version}`, +(Number(r.bytes) / 2 ** 20).toFixed(1)])),
    scoring_threads: env.SCORING_THREADS,
  });

  const both: number[] = [];
  const one: number[] = [];
  for (let round = 1; round <= flags.rounds; round++) {
    const withCanary = await measure(flags.port, key, canary);
    both.push(withCanary.rssMb);
    await call(withCanary.url, key, 'mutation { abortExperiment { id } }');
    await withCanary.stop();
    const alone = await measure(flags.port, key, active);
    one.push(alone.rssMb);
    await call(alone.url, key, `mutation { activateModel(version: ${canary}, traffic: ${traffic}) { version } }`);
    await alone.stop();
    emit({ bench: 'experiment_memory', round, rss_mb_both_models: withCanary.rssMb, rss_mb_active_only: alone.rssMb });
  }
  const [b, o] = [median(both), median(one)];
  emit({
    bench: 'experiment_memory_summary',
    rounds: flags.rounds,
    rss_mb_both_models: b,
    rss_mb_active_only: o,
    canary_costs_mb: b - o,
    ratio: +(b / o).toFixed(3),
  });
}

/** A fresh API process, measured (VmRSS: every thread's memory) once `version` answers some user. */
async function measure(
  port: number,
  key: string | undefined,
  version: number,
): Promise<{ url: string; rssMb: number; stop: () => Promise<void> }> {
  const api = await startApi({ PORT: String(port) });
  const deadline = Date.now() + SERVED_WAIT_MS;
  for (let u = 0; ; u = (u + 1) % 50) {
    const answer = await call(api.url, key, `{ recommendations(userId: "u${u}", limit: 1) { modelVersion } }`);
    if ((answer.recommendations as { modelVersion: number | null }).modelVersion === version) break;
    if (Date.now() > deadline) throw new Error(`v${version} was not served within ${SERVED_WAIT_MS / 1000} s`);
    if (u === 49) await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${api.pid}/status`, 'utf8'))![1]);
  return { url: api.url, rssMb: Math.round(kb / 1024), stop: api.stop };
}

async function call(url: string, key: string | undefined, query: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
  if (!body.data) throw new Error(body.errors?.[0]?.message ?? `HTTP ${res.status}`);
  return body.data;
}

function parseArgs(args: string[]): typeof DEFAULTS {
  const out = { ...DEFAULTS };
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i].replace(/^--/, '');
    if (!(name in out)) throw new Error(`unknown option ${args[i]} (known: --rounds, --port)`);
    const value = Number(args[i + 1]);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${args[i]} must be a positive integer`);
    out[name as keyof typeof DEFAULTS] = value;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
