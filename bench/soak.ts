/**
 * A soak: the real API and worker processes under steady load for --minutes, retraining and
 * activating a model every --retrain-every seconds, through one Redis restart and one SIGKILL of
 * the worker mid-training. Its own database (recoder_bench_soak) and its own Redis (a persistent
 * redis-server on --redis-port, default any free port), so it can stop Redis and touch no one's data.
 *
 * Load: `recommendations` on --connections (32) keep-alive connections, each asking again as soon as
 * it is answered; `recordInteractions` at --events-per-s (100) in batches of 10, each event with an
 * eventId, a failed batch sent again with the same ids (as a client should) until it is answered.
 * Faults: the worker SIGKILLed once the training requested after 40% of the run is training (a
 * new worker 2 s later); Redis stopped (SIGTERM) at 55% for --redis-down (10) seconds.
 *
 * One JSON line: requests, errors by code, p99, events sent vs stored, versions activated, answers
 * by `source` (also those given while Redis was down), and the lifecycle's state at the end.
 * npm run bench:soak [-- --minutes 10 --connections 32 --events-per-s 100 --retrain-every 120
 *   --redis-down 10 --users 5000 --items 500 --per-user 20 --epochs 4 --redis-port 6391]
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import Redis from 'ioredis';
import { Client } from 'pg';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic, INTERACTION_TYPES, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { DisposableRedis } from '@app/testing';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { freshDatabase, startApi, startWorker } from './lib/api-process';
import { activeKey, versionOfKey, versionsPattern } from '@app/embedding-store';

const ADMIN_API_KEY = 'soak-admin-key-0123456789abcdef';
const ADMIN = { authorization: `Bearer ${ADMIN_API_KEY}` };
const RECS =
  'query R($u: ID!) { recommendations(userId: $u, limit: 20) { source modelVersion items { item { id } } } }';
const RECORD = 'mutation I($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted duplicates } }';
const RETRAIN = 'mutation T($c: TrainingConfigInput) { retrain(config: $c, force: true) { id } }';
const JOB = 'query J($id: ID!) { trainingJob(id: $id) { state progress { phase } modelVersion { version } } }';
const EVENTS_PER_BATCH = 10;
/** How long after the run a batch still unanswered is sent again before it counts as unconfirmed. */
const RECORD_GRACE_MS = 60_000;

/** The fields of the GraphQL answers the soak reads. */
interface SoakData {
  trainingJob?: { state: string; progress?: { phase?: string } | null; modelVersion: { version: number } } | null;
  retrain: { id: string };
  recommendations: { modelVersion: number | null; source: string };
}
type Answer =
  | { status: number; body: { data?: SoakData; errors?: Array<{ extensions?: { code?: string } }> } }
  | { network: string };

/** GraphQL over keep-alive HTTP/1.1 connections: the load of a real client pool, not autocannon's (each answer's `source` is read). */
class GraphqlClient {
  private readonly agent: Agent;

  constructor(
    private readonly url: string,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  post(query: string, variables: object, headers: Record<string, string> = {}): Promise<Answer> {
    const body = JSON.stringify({ query, variables });
    return new Promise((resolve) => {
      const req = request(
        `${this.url}/graphql`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({
                status: res.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString()) as { data?: SoakData },
              });
            } catch {
              resolve({ status: res.statusCode ?? 0, body: { errors: [{ extensions: { code: 'UNPARSEABLE' } }] } });
            }
          });
          res.on('error', (err: NodeJS.ErrnoException) => resolve({ network: err.code ?? err.message }));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ network: err.code ?? err.message }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bump = (counts: Record<string, number>, key: string) => void (counts[key] = (counts[key] ?? 0) + 1);
/** The error code of an answer, or null when it has data and no errors. */
function failure(answer: Answer): string | null {
  if ('network' in answer) return `NETWORK_${answer.network}`;
  if (answer.body.errors?.length) return answer.body.errors[0].extensions?.code ?? 'NO_CODE';
  return answer.body.data ? null : 'NO_DATA';
}

runCli(async (args) => {
  const flags = parseFlags(args, [
    'minutes',
    'connections',
    'events-per-s',
    'retrain-every',
    'redis-down',
    'users',
    'items',
    'per-user',
    'epochs',
    'redis-port',
  ]);
  const num = (name: string, fallback: number) => {
    const value = Number(flags[name] ?? fallback);
    if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number`);
    return value;
  };
  const minutes = num('minutes', 10);
  const connections = Math.round(num('connections', 32));
  const eventsPerS = num('events-per-s', 100);
  const retrainEvery = num('retrain-every', 120) * 1000;
  const redisDownMs = num('redis-down', 10) * 1000;
  const users = Math.round(num('users', 5_000));
  const items = Math.round(num('items', 500));
  const perUser = Math.round(num('per-user', 20));
  const training = { epochs: Math.round(num('epochs', 4)) };
  const runMs = minutes * 60_000;

  process.stderr.write(`soak: seeding ${users} users x ${items} items\n`);
  const databaseUrl = await freshDatabase('recoder_bench_soak');
  await importSynthetic({ url: databaseUrl }, generateSynthetic({ users, items, seed: 3, perUser }));
  const redisServer = await DisposableRedis.start({
    persistent: true,
    port: flags['redis-port'] ? Number(flags['redis-port']) : undefined,
  });
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: redisServer.url, ADMIN_API_KEY };
  // a killed worker's job is taken back after TRAINING_LOCK_MS: 30 s instead of 120 in a 10-minute run
  const workerEnv = { ...env, JOBS_PORT: '3961', TRAIN_THREADS: '1', TRAINING_LOCK_MS: '30000' };
  const api = await startApi({ ...env, PORT: '3960' });
  let worker = startWorker(workerEnv);
  const gql = new GraphqlClient(api.url, connections + 8);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();

  try {
    const jobState = async (id: string) => {
      const answer = await gql.post(JOB, { id }, ADMIN);
      return 'network' in answer ? null : (answer.body.data?.trainingJob ?? null);
    };
    const awaitJob = async (id: string, ms: number) => {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(500)) {
        const job = await jobState(id);
        if (job?.state === 'COMPLETED' || job?.state === 'FAILED') return job;
      }
      return null;
    };
    process.stderr.write('soak: training the first model\n');
    const first = await gql.post(RETRAIN, { c: training }, ADMIN);
    if (failure(first) || 'network' in first)
      throw new Error(`the first retrain was refused: ${JSON.stringify(first)}`);
    const firstJob = await awaitJob(first.body.data!.retrain.id, 600_000);
    if (firstJob?.state !== 'COMPLETED')
      throw new Error(`the first training did not complete: ${JSON.stringify(firstJob)}`);
    // the run starts once the API serves that model (it looks on the switch's message, or within 10 s)
    for (let i = 0; i < 120; i++, await sleep(500)) {
      const answer = await gql.post(RECS, { u: syntheticUserId(0) });
      if (!('network' in answer) && answer.body.data?.recommendations.modelVersion === firstJob.modelVersion.version)
        break;
    }

    // ---- the run
    process.stderr.write(`soak: ${minutes} min of load\n`);
    const startedAt = new Date();
    const t0 = Date.now();
    const deadline = t0 + runMs;
    const since = () => Date.now() - t0;

    const latencies: number[] = [];
    const errors: Record<'recommendations' | 'recordInteractions' | 'retrain', Record<string, number>> = {
      recommendations: {},
      recordInteractions: {},
      retrain: {},
    };
    const sources: Record<string, number> = {};
    const servedVersions: Record<string, number> = {};
    const whileRedisDown: Record<string, number> = {};
    let http5xx = 0;
    /** When the Redis process had exited, and when it answered again (ms since the epoch). */
    const outage = { stopped: Infinity, back: Infinity };

    const recommend = async () => {
      while (Date.now() < deadline) {
        const sent = Date.now();
        const started = performance.now();
        const answer = await gql.post(RECS, { u: syntheticUserId(Math.floor(Math.random() * users)) });
        latencies.push(performance.now() - started);
        const answered = Date.now();
        if (!('network' in answer) && answer.status >= 500) http5xx++;
        const code = failure(answer);
        if (code) {
          bump(errors.recommendations, code);
          continue;
        }
        const { source, modelVersion } = (
          answer as { body: { data: { recommendations: { source: string; modelVersion: number | null } } } }
        ).body.data.recommendations;
        bump(sources, source);
        bump(servedVersions, String(modelVersion));
        // sent after Redis went and answered before it was back
        if (sent >= outage.stopped && answered <= outage.back) bump(whileRedisDown, source);
      }
    };

    // events: soak-0, soak-1, ... ; confirmed[n] once an answer said the batch holding event n is stored
    let nextEvent = 0;
    const confirmed: boolean[] = [];
    let recordRetries = 0;
    const pending = new Set<Promise<void>>();
    const sendBatch = async () => {
      const ids = Array.from({ length: EVENTS_PER_BATCH }, () => nextEvent++);
      const input = ids.map((n) => ({
        userId: syntheticUserId(Math.floor(Math.random() * users)),
        itemId: syntheticItemId(Math.floor(Math.random() * items)),
        type: INTERACTION_TYPES[n % INTERACTION_TYPES.length],
        eventId: `soak-${n}`,
      }));
      for (let attempt = 0; Date.now() < deadline + RECORD_GRACE_MS; attempt++) {
        if (attempt > 0) {
          recordRetries++;
          await sleep(250);
        }
        const answer = await gql.post(RECORD, { input });
        if (!('network' in answer) && answer.status >= 500) http5xx++;
        const code = failure(answer);
        if (!code) {
          for (const n of ids) confirmed[n] = true;
          return;
        }
        bump(errors.recordInteractions, code);
      }
    };
    const record = async () => {
      const every = (1000 * EVENTS_PER_BATCH) / eventsPerS;
      for (let tick = 1; t0 + tick * every < deadline; tick++) {
        await sleep(Math.max(0, t0 + tick * every - Date.now()));
        const batch = sendBatch().finally(() => pending.delete(batch));
        pending.add(batch);
      }
    };

    // a retrain (force: activated) every retrainEvery; asked again every 2 s while it is refused
    const jobs: string[] = [];
    const retrains = async () => {
      for (let k = 1; t0 + k * retrainEvery < deadline; k++) {
        await sleep(Math.max(0, t0 + k * retrainEvery - Date.now()));
        while (Date.now() < deadline) {
          const answer = await gql.post(RETRAIN, { c: { ...training, seed: k } }, ADMIN);
          const code = failure(answer);
          if (!code && !('network' in answer)) {
            jobs.push(answer.body.data!.retrain.id);
            break;
          }
          bump(errors.retrain, code!);
          await sleep(2000);
        }
      }
    };

    // the worker SIGKILLed once the training requested after 40% of the run is training; a new one 2 s later
    let killedIn: string | null = null;
    const killWorker = async () => {
      await sleep(Math.max(0, t0 + 0.4 * runMs - Date.now()));
      const seen = jobs.length;
      for (
        const giveUp = Date.now() + retrainEvery * 1.5;
        Date.now() < giveUp && Date.now() < deadline;
        await sleep(200)
      ) {
        if (jobs.length === seen) continue;
        const phase = (await jobState(jobs[jobs.length - 1]))?.progress?.phase;
        if (phase === 'train' || phase === 'publish') {
          killedIn = phase;
          break;
        }
      }
      killedIn ??= 'idle';
      await worker.kill();
      process.stderr.write(`soak: worker SIGKILLed (${killedIn}) at ${(since() / 1000).toFixed(0)} s\n`);
      await sleep(2000);
      worker = startWorker(workerEnv);
    };

    const restartRedis = async () => {
      await sleep(Math.max(0, t0 + 0.55 * runMs - Date.now()));
      // down once the process has exited: a shutdown still answers for a moment after SIGTERM
      await redisServer.stop({ graceful: true });
      outage.stopped = Date.now();
      process.stderr.write(`soak: Redis stopped at ${(since() / 1000).toFixed(0)} s\n`);
      await sleep(redisDownMs);
      await redisServer.start();
      outage.back = Date.now();
      process.stderr.write(`soak: Redis back at ${(since() / 1000).toFixed(0)} s\n`);
    };

    await Promise.all([
      ...Array.from({ length: connections }, recommend),
      record(),
      retrains(),
      killWorker(),
      restartRedis(),
    ]);
    const requestsRun = latencies.length;
    const runSeconds = (Date.now() - t0) / 1000;

    // ---- settle: unanswered batches retried, the last training finished
    while (pending.size) await Promise.all([...pending]);
    if (jobs.length) await awaitJob(jobs[jobs.length - 1], 300_000);
    await redis.connect().catch(() => undefined);

    // ---- what is stored
    const stored = (
      await db.query<{ n: number }>(
        `SELECT substring(event_id FROM 6)::int AS n FROM interactions WHERE event_id LIKE 'soak-%'`,
      )
    ).rows.map((r) => r.n);
    const storedSet = new Set(stored);
    let lost = 0;
    let unconfirmed = 0;
    for (let n = 0; n < nextEvent; n++) {
      if (confirmed[n] && !storedSet.has(n)) lost++;
      if (!confirmed[n]) unconfirmed++;
    }
    const active = (
      await db.query<{ version: number }>(`SELECT version FROM model_versions WHERE status = 'ACTIVE'`)
    ).rows.map((r) => r.version);
    // each training of the run: its version, where it ended, and its seconds per phase
    const trainings = (
      await db.query<{ version: number; status: string; timings: Record<string, number> }>(
        `SELECT version, status, timings FROM model_versions WHERE job_id = ANY($1) ORDER BY version`,
        [[...new Set(jobs)]],
      )
    ).rows.map((r) => ({
      version: r.version,
      status: r.status,
      seconds: +Object.values(r.timings)
        .reduce((a, b) => a + b, 0)
        .toFixed(1),
    }));
    const activated = (
      await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM model_versions WHERE activated_at >= $1`, [
        startedAt,
      ])
    ).rows[0].n;
    const statuses = Object.fromEntries(
      (
        await db.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM model_versions GROUP BY status ORDER BY status`,
        )
      ).rows.map((r) => [r.status, r.n]),
    );
    const complete = new Set(
      (
        await db.query<{ version: number }>(`SELECT version FROM model_versions WHERE status IN ('READY', 'ACTIVE')`)
      ).rows.map((r) => r.version),
    );
    const inRedis = new Set<number>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', versionsPattern(), 'COUNT', 5000);
      cursor = next;
      for (const key of keys) inRedis.add(versionOfKey(key) ?? NaN);
    } while (cursor !== '0');
    const pointer = Number(await redis.get(activeKey()));
    let served: number | null = null;
    for (let i = 0; i < 30 && served !== active[0]; i++, await sleep(500)) {
      const answer = await gql.post(RECS, { u: syntheticUserId(0) });
      served = 'network' in answer ? null : (answer.body.data?.recommendations.modelVersion ?? null);
    }

    latencies.sort((a, b) => a - b);
    const quantile = (q: number) =>
      +latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
    const internal = Object.values(errors).reduce((n, codes) => n + (codes.INTERNAL_SERVER_ERROR ?? 0), 0);
    const embeddingWhileDown = whileRedisDown.EMBEDDING ?? 0;
    const unfinishedWithKeys = [...inRedis].filter((v) => !complete.has(v)).sort((a, b) => a - b);
    return {
      bench: 'soak',
      minutes,
      connections,
      users,
      items,
      interactions: users * perUser,
      seconds: +runSeconds.toFixed(1),
      requests: {
        recommendations: requestsRun,
        recordInteractions_batches: Math.ceil(nextEvent / EVENTS_PER_BATCH),
        record_retries: recordRetries,
      },
      recommendations_per_s: Math.round(requestsRun / runSeconds),
      p50_ms: quantile(0.5),
      p99_ms: quantile(0.99),
      http_5xx: http5xx,
      errors,
      events: {
        sent: nextEvent,
        confirmed: nextEvent - unconfirmed,
        stored: stored.length,
        distinct_stored: storedSet.size,
        lost,
        duplicated: stored.length - storedSet.size,
      },
      retrains_requested: jobs.length,
      // a retrain asked for while one runs joins it (one deduplication)
      training_jobs: new Set(jobs).size,
      trainings,
      versions_activated: activated,
      versions_by_status: statuses,
      sources,
      served_versions: servedVersions,
      redis_down_s: Number.isFinite(outage.back - outage.stopped)
        ? +((outage.back - outage.stopped) / 1000).toFixed(1)
        : 0,
      sources_while_redis_down: whileRedisDown,
      worker_killed_in: killedIn,
      end_state: {
        active_versions: active,
        redis_pointer: pointer,
        served_version: served,
        unfinished_versions_with_keys: unfinishedWithKeys,
      },
      targets_met:
        http5xx === 0 &&
        internal === 0 &&
        lost === 0 &&
        stored.length === storedSet.size &&
        embeddingWhileDown === 0 &&
        active.length === 1 &&
        pointer === active[0] &&
        served === active[0] &&
        unfinishedWithKeys.length === 0,
      host: `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores`,
    };
  } finally {
    gql.close();
    redis.disconnect();
    await db.end();
    await worker.stop();
    await api.stop();
    await redisServer.dispose();
  }
});
