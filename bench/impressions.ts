/**
 * Impressions through the API: reportImpressions sustained with autocannon (64 connections) against
 * the real API process, each call reporting --per-call items of an answer the API gave, and what a
 * stored impression costs after the roll-up. Rounds alternate with the trivial query, the server's
 * own ceiling, measured in the same run. Then the API stops (a clean stop writes what it holds) and
 * the impressions table is measured: pg_total_relation_size of its partitions over its rows, and
 * over the raw impressions they hold (the sum of their shows).
 * npm run bench:impressions [-- --users 2000 --items 2000 --per-call 10 --seconds 20 --rounds 4 --connections 64 --redis-db 12 --port 3965]
 */
import autocannon from 'autocannon';
import { Client } from 'pg';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic, syntheticUserId } from '@app/synthetic';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { emit, freshDatabase, startApi } from './lib/api-process';

const RECS =
  'query R($u: ID!, $n: Int) { recommendations(userId: $u, limit: $n) { recommendationId items { item { id } } } }';
const REPORT =
  'mutation I($rid: String!, $items: [ID!]!) { reportImpressions(recommendationId: $rid, itemIds: $items) { accepted } }';

runCli(async (args) => {
  const flags = parseFlags(args, [
    'users',
    'items',
    'per-call',
    'seconds',
    'rounds',
    'connections',
    'redis-db',
    'port',
  ]);
  const users = Number(flags.users ?? 2000);
  const items = Number(flags.items ?? 2000);
  const perCall = Number(flags['per-call'] ?? 10);
  const seconds = Number(flags.seconds ?? 20);
  const rounds = Number(flags.rounds ?? 4);
  const connections = Number(flags.connections ?? 64);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError('--rounds must be a positive integer');
  const url = await freshDatabase('recoder_bench_impressions');
  await importSynthetic({ url }, generateSynthetic({ users, items, seed: 3, perUser: 10 }));
  const api = await startApi({
    DATABASE_URL: url,
    REDIS_URL: `redis://127.0.0.1:6379/${flags['redis-db'] ?? 12}`,
    PORT: flags.port ?? '3965',
  });
  let stopped = false;
  try {
    const graphql = `${api.url}/graphql`;
    // one answer per user: what a client would report against
    const bodies: string[] = [];
    for (let u = 0; u < users; u++) {
      const res = (await post(graphql, RECS, { u: syntheticUserId(u), n: perCall })) as {
        data: { recommendations: { recommendationId: string; items: { item: { id: string } }[] } };
      };
      const answer = res.data.recommendations;
      const ids = answer.items.map((i) => i.item.id);
      bodies.push(JSON.stringify({ query: REPORT, variables: { rid: answer.recommendationId, items: ids } }));
    }
    let next = 0;
    const report = () => bodies[next++ % bodies.length];
    const trivial = () => JSON.stringify({ query: '{ __typename }' });
    const runs: Array<{ report: number; trivial: number; errors: number }> = [];
    for (let r = 0; r < rounds; r++) {
      const t = await load(graphql, trivial, seconds / rounds, connections, r === 0);
      const i = await load(graphql, report, seconds / rounds, connections, r === 0);
      runs.push({ report: i.reqPerS, trivial: t.reqPerS, errors: i.errors + t.errors });
    }
    await api.stop();
    stopped = true;
    const stored = await measureTable(url);
    const reportRate = runs.reduce((s, r) => s + r.report, 0) / runs.length;
    emit({
      bench: 'impressions',
      users,
      items,
      items_per_call: perCall,
      connections,
      seconds,
      rounds,
      calls_per_s: Math.round(reportRate),
      impressions_per_s: Math.round(reportRate * perCall),
      ratio_to_trivial: median(runs.map((r) => +(r.report / r.trivial).toFixed(3))),
      round_calls_per_s: runs.map((r) => Math.round(r.report)),
      errors: runs.reduce((s, r) => s + r.errors, 0),
    });
    emit({
      bench: 'impressions_storage',
      ...stored,
      bytes_per_row: Math.round(stored.bytes / stored.rows),
      bytes_per_impression: +(stored.bytes / stored.impressions).toFixed(2),
      impressions_per_row: +(stored.impressions / stored.rows).toFixed(2),
    });
  } finally {
    if (!stopped) await api.stop();
  }
  return undefined;
});

async function post(url: string, query: string, variables: object): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as { errors?: unknown };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json;
}

async function load(
  url: string,
  body: () => string,
  seconds: number,
  connections: number,
  warmUp: boolean,
): Promise<{ reqPerS: number; errors: number }> {
  const options = {
    url,
    connections,
    requests: [
      {
        method: 'POST' as const,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: autocannon.Request) => ({ ...req, body: body() }),
      },
    ],
  };
  if (warmUp) await autocannon({ ...options, duration: 2 });
  const r = await autocannon({ ...options, duration: seconds });
  return { reqPerS: r.requests.average, errors: r.non2xx + r.errors + r.timeouts };
}

/** The impressions' rows, the raw impressions they hold, and their partitions' bytes (heap, index, TOAST). */
async function measureTable(url: string): Promise<{ rows: number; impressions: number; bytes: number }> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    await pg.query('VACUUM ANALYZE impressions');
    const { rows } = await pg.query<{ rows: number; impressions: number; bytes: number }>(
      `SELECT (SELECT count(*) FROM impressions)::int AS rows,
              (SELECT COALESCE(sum(shows), 0) FROM impressions)::float8 AS impressions,
              (SELECT COALESCE(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('impressions'))::float8 AS bytes`,
    );
    return rows[0];
  } finally {
    await pg.end();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : +((sorted[mid - 1] + sorted[mid]) / 2).toFixed(3);
}
