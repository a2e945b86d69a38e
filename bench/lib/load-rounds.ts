/**
 * Load rounds with autocannon against a running API: one load, rounds of loads combined into one
 * line, and a query's rounds each paired with a round of the trivial query right before it, so a
 * host that changes speed between minutes moves both sides of a ratio alike.
 */
import autocannon from 'autocannon';
import { cpuSeconds, mainThreadCpuSeconds } from './api-process';

/** A bench of the popularity fallback would measure nothing: the model must be answering. */
/** Waits until the API answers `userId` from the published model (a model of 1M items takes minutes to load). */
export async function expectModelServing(url: string, userId: string, timeoutSeconds = 300): Promise<void> {
  const deadline = performance.now() + timeoutSeconds * 1000;
  let last = 'no answer';
  while (performance.now() < deadline) {
    const res = (await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'query R($u: ID!) { recommendations(userId: $u, limit: 1) { source } }',
        variables: { u: userId },
      }),
    }).then((r) => r.json())) as { data?: { recommendations: { source: string } }; errors?: unknown };
    last = res.data?.recommendations.source ?? JSON.stringify(res.errors);
    if (last === 'EMBEDDING') return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(
    `the API does not serve the published model after ${timeoutSeconds} s (answers are ${last}, not EMBEDDING)`,
  );
}

export interface LoadResult {
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  requests: number;
}

export type Body = () => { query: string; variables?: object };

export async function load(
  url: string,
  body: Body,
  seconds: number,
  connections: number,
  warmUp: boolean,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const options = {
    url,
    connections,
    requests: [
      {
        method: 'POST' as const,
        headers: { 'content-type': 'application/json', ...headers },
        setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify(body()) }),
      },
    ],
  };
  if (warmUp) await autocannon({ ...options, duration: 2 });
  const r = await autocannon({ ...options, duration: seconds });
  return {
    req_per_s: r.requests.average,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
    requests: r.requests.total,
  };
}

/** Rounds of equal length as one line: mean rate, median p50, the worst round's p99 (autocannon gives percentiles, not histograms). */
export function combine(runs: LoadResult[]): Omit<LoadResult, 'requests'> {
  return {
    req_per_s: Math.round(runs.reduce((sum, r) => sum + r.req_per_s, 0) / runs.length),
    p50_ms: median(runs.map((r) => r.p50_ms)),
    p99_ms: Math.max(...runs.map((r) => r.p99_ms)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : +((sorted[mid - 1] + sorted[mid]) / 2).toFixed(3);
}

/**
 * What the API's request thread did besides answering during a load, from its /metrics
 * (prom-client's default metrics): garbage collection by kind and the event loop's delay, which
 * prom-client resets at each scrape, so the scrape before a load starts its window.
 */
export interface MainThread {
  /** The request thread's CPU per request; the rest of cpu_ms_per_request is the scoring threads' (and GC helpers'). */
  cpu_ms_per_request: number;
  gc_ms: Record<string, number>;
  /** Pauses of at least 10 ms (prom-client's buckets: 1, 10, 100 ms...). */
  gc_pauses_over_10ms: number;
  loop_delay_max_ms: number;
  loop_delay_p99_ms: number;
}

type Scrape = Map<string, number>;

async function scrape(url: string): Promise<Scrape | null> {
  const res = await fetch(`${url}/metrics`).catch(() => null);
  if (!res?.ok) return null;
  const values: Scrape = new Map();
  for (const line of (await res.text()).split('\n')) {
    const m = /^(nodejs_(?:gc_duration_seconds|eventloop_lag)\S*)\s+(\S+)$/.exec(line);
    if (m) values.set(m[1], Number(m[2]));
  }
  return values;
}

function mainThread(before: Scrape | null, after: Scrape | null, cpuMs: number): MainThread | null {
  if (!before || !after) return null;
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const gc_ms: Record<string, number> = {};
  let pauses = 0;
  for (const name of after.keys()) {
    const kind = /^nodejs_gc_duration_seconds_sum\{kind="(\w+)"\}$/.exec(name)?.[1];
    if (kind) gc_ms[kind] = Math.round(1000 * delta(name));
    const bucket = /^nodejs_gc_duration_seconds_bucket\{le="0\.01",kind="(\w+)"\}$/.exec(name)?.[1];
    if (bucket) pauses += delta(`nodejs_gc_duration_seconds_count{kind="${bucket}"}`) - delta(name);
  }
  return {
    cpu_ms_per_request: +cpuMs.toFixed(3),
    gc_ms,
    gc_pauses_over_10ms: pauses,
    loop_delay_max_ms: Math.round(1000 * (after.get('nodejs_eventloop_lag_max_seconds') ?? NaN)),
    loop_delay_p99_ms: Math.round(1000 * (after.get('nodejs_eventloop_lag_p99_seconds') ?? NaN)),
  };
}

export interface PairedRounds {
  /** Each round's load of the query, with the API process's CPU per request (all threads). */
  runs: Array<{
    trivial: LoadResult;
    query: LoadResult & { cpu_ms_per_request: number; main_thread: MainThread | null };
  }>;
  /** Each round's query/trivial ratio of requests/s. */
  ratios: number[];
}

/**
 * `rounds` loads of `body`, each right after a load of the trivial query, `seconds` in all for
 * each side; the first round of each warms up (graphql-jit compiles a query on its second run).
 * `beforeEach` runs before each load of the query (e.g. to make its users stale again).
 */
export async function pairedRounds(
  api: { url: string; pid: number },
  body: Body,
  options: { seconds: number; rounds: number; connections: number; beforeEach?: () => Promise<void> },
): Promise<PairedRounds> {
  const url = `${api.url}/graphql`;
  const perRound = options.seconds / options.rounds;
  const runs: PairedRounds['runs'] = [];
  for (let r = 0; r < options.rounds; r++) {
    const trivial = await load(url, TRIVIAL, perRound, options.connections, r === 0);
    if (r === 0) await load(url, body, 2, options.connections, false);
    await options.beforeEach?.();
    const before = await scrape(api.url);
    const cpu = [cpuSeconds(api.pid), mainThreadCpuSeconds(api.pid)];
    const query = await load(url, body, perRound, options.connections, false);
    const [used, usedByMain] = [cpuSeconds(api.pid) - cpu[0], mainThreadCpuSeconds(api.pid) - cpu[1]];
    runs.push({
      trivial,
      query: {
        ...query,
        cpu_ms_per_request: (1000 * used) / query.requests,
        main_thread: mainThread(before, await scrape(api.url), (1000 * usedByMain) / query.requests),
      },
    });
  }
  return { runs, ratios: runs.map((run) => +(run.query.req_per_s / run.trivial.req_per_s).toFixed(3)) };
}

/** The server's own ceiling: the same HTTP, GraphQL and framework work, no resolver. */
export const TRIVIAL: Body = () => ({ query: '{ __typename }' });
