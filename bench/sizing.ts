import { readFileSync } from 'node:fs';
import { parseFlags, runCli, UsageError } from '../scripts/cli';

/**
 * A deployment's size computed from the per-unit costs `bench:scale` measured (its `scale_sizing`
 * line): Redis memory and shards, API replicas, worker hours and memory for --users x --items.
 * Reads bench:scale's JSON lines (a file, or stdin), prints one JSON line per resource with the
 * arithmetic's inputs, so docs/scaling.md's table is computed, not guessed.
 * npm run -s bench:sizing -- --from scale.jsonl [--users 10000000 --items 1000000 --per-user 100
 *   --peak-rps 5000 --decode-share 0.1 --similar-share 0.1 --epochs 20 --shard-gb 25
 *   --replica-cores 2 --utilisation 0.6 --worker-cores 2]
 * The measured catalogue must have the target's item count: costs per request and per item are
 * taken as measured there; costs per user and per interaction are scaled linearly.
 */
interface Sizing {
  users: number;
  items: number;
  model_items: number;
  interactions: number;
  width: number;
  redis_bytes_per_user: number;
  redis_bytes_per_item: number;
  api_rss_mb: number;
  cpu_ms_per_request: Record<string, number | null>;
  worker_cpu_seconds_per_epoch: number[];
  worker_cpu_ms_per_published_user: number;
  worker_peak_rss_mb: number;
  index_mb: number | null;
  index_build_cpu_seconds?: number | null;
}

const GB = 2 ** 30;

runCli((args) => {
  const flags = parseFlags(args, [
    'from',
    'users',
    'items',
    'per-user',
    'peak-rps',
    'decode-share',
    'similar-share',
    'epochs',
    'shard-gb',
    'replica-cores',
    'utilisation',
    'worker-cores',
  ]);
  const num = (name: string, fallback: number) => {
    const value = Number(flags[name] ?? fallback);
    if (!(value >= 0 && Number.isFinite(value))) throw new UsageError(`--${name} must be a non-negative number`);
    return value;
  };
  const text = readFileSync(flags.from ?? 0, 'utf8');
  const line = text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { bench?: string } & Sizing)
    .filter((l) => l.bench === 'scale_sizing')
    .pop();
  if (!line) throw new UsageError('no scale_sizing line in the input: give bench:scale output (--from FILE or stdin)');

  const target = { users: num('users', 10_000_000), items: num('items', line.items), perUser: num('per-user', 100) };
  if (target.items !== line.items)
    throw new UsageError(`the measured catalogue has ${line.items} items: run bench:scale at --items ${target.items}`);
  const interactions = target.users * target.perUser;
  const peakRps = num('peak-rps', 5000);
  const [decodeShare, similarShare] = [num('decode-share', 0.1), num('similar-share', 0.1)];
  const cpu = line.cpu_ms_per_request;
  const need = (q: string) => {
    const v = cpu[q];
    if (v === null || v === undefined) throw new UsageError(`the input has no CPU figure for ${q}`);
    return v;
  };

  // Redis: every user's hash (vector, top list, seen items) and every item's (vector, similar list)
  const redisBytes = target.users * line.redis_bytes_per_user + line.model_items * line.redis_bytes_per_item;
  const shardGb = num('shard-gb', 25);
  const primaries = Math.max(1, Math.ceil(redisBytes / GB / shardGb));
  emit('redis', {
    gb: round(redisBytes / GB),
    per_user_bytes: line.redis_bytes_per_user,
    per_item_bytes: line.redis_bytes_per_item,
    shard_gb: shardGb,
    primaries,
    nodes_with_one_replica: 2 * primaries,
  });

  // API: a traffic mix at the peak rate, each request's CPU as measured, replicas of N cores kept at a utilisation
  const cachedShare = 1 - decodeShare - similarShare;
  if (cachedShare < 0) throw new UsageError('--decode-share plus --similar-share must be at most 1');
  const cpuMsPerRequest =
    cachedShare * need('recommendations') +
    decodeShare * need('recommendations_stale') +
    similarShare * need('similar_items');
  const cores = (peakRps * cpuMsPerRequest) / 1000;
  const [replicaCores, utilisation] = [num('replica-cores', 2), num('utilisation', 0.6)];
  const replicas = Math.max(2, Math.ceil(cores / (replicaCores * utilisation)));
  emit('api', {
    peak_rps: peakRps,
    mix: { cached: round(cachedShare), decode: decodeShare, similar: similarShare },
    cpu_ms_per_request: round(cpuMsPerRequest),
    cores_busy: round(cores),
    replica_cores: replicaCores,
    utilisation,
    replicas,
    rss_gb_per_replica: round(line.api_rss_mb / 1024),
  });

  // worker: an epoch follows the interactions (sampled training), publishing follows the users
  const epochCpu = median(line.worker_cpu_seconds_per_epoch) * (interactions / line.interactions);
  const epochs = num('epochs', 20);
  const publishCpu =
    (target.users * line.worker_cpu_ms_per_published_user) / 1000 + (line.index_build_cpu_seconds ?? 0);
  const workerCores = num('worker-cores', 2);
  const cpuHours = (epochs * epochCpu + publishCpu) / 3600;
  // the matrix of interactions is what grows with users; the model's arrays are the catalogue's
  const measuredInteractionsGb = (line.interactions * 12) / GB;
  emit('worker', {
    interactions,
    epoch_cpu_seconds: Math.round(epochCpu),
    epochs,
    publish_cpu_seconds: Math.round(publishCpu),
    cpu_hours: round(cpuHours),
    worker_cores: workerCores,
    wall_hours_per_retrain: round(cpuHours / workerCores),
    peak_rss_gb: round(line.worker_peak_rss_mb / 1024 + ((interactions - line.interactions) * 12) / GB),
    measured_peak_rss_gb: round(line.worker_peak_rss_mb / 1024),
    interactions_gb_at_12_bytes: round(measuredInteractionsGb),
  });
  return Promise.resolve(undefined);
});

function emit(resource: string, figures: object): void {
  process.stdout.write(`${JSON.stringify({ bench: 'sizing', resource, ...figures })}\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(x: number): number {
  return +x.toFixed(2);
}
