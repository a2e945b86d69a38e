import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendFromEnv, buildInteractionMatrix, CsrMatrix, initBackend, trainDae } from '@app/model';
import { generateSynthetic } from '@app/synthetic';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { matMulGflops } from './lib/matmul-gflops';

/**
 * Training throughput and memory of the DAE on synthetic data shaped like MovieLens, beside the
 * same architecture in PyTorch (bench/peers/mult_dae_torch.py) on the same data. JSON lines only:
 * one per phase and epoch on stdout, the summary last.
 */
const SHAPES = {
  'ml-1m': { users: 6040, items: 3706, perUser: 165 },
  'ml-20m': { users: 136677, items: 20108, perUser: 73 },
} as const;
type Shape = keyof typeof SHAPES;

const FLAGS = [
  'shape',
  'epochs',
  'threads',
  'batch-size',
  'hidden',
  'dim',
  'seed',
  'peer',
  'peer-threads',
  'python',
  'users',
  'items',
  'per-user',
  'sampled-negatives',
] as const;
const DEFAULT_PYTHON = '/usr/bin/python3'; // Debian's, where python3-torch is installed
const MATMUL_REPEATS = 5;

async function main(args: string[]): Promise<unknown> {
  const flags = parseFlags(args, FLAGS);
  // --users/--items/--per-user: a synthetic shape of any size (the scaling curves, the 1M-item epoch)
  const custom = flags.users !== undefined || flags.items !== undefined;
  const shapeName = custom ? 'synthetic' : ((flags.shape ?? 'ml-1m') as Shape);
  const shape = custom
    ? {
        users: Number(flags.users ?? 20000),
        items: Number(flags.items ?? 20000),
        perUser: Number(flags['per-user'] ?? 100),
      }
    : SHAPES[shapeName as Shape];
  if (!shape) throw new UsageError(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`);
  const sampledNegatives = Number(flags['sampled-negatives'] ?? 0);
  const epochs = Number(flags.epochs ?? (shapeName === 'ml-1m' ? 3 : 1));
  const threads = Number(flags.threads ?? 2);
  const batchSize = Number(flags['batch-size'] ?? 500);
  const hidden = (flags.hidden ?? '600').split(',').filter(Boolean).map(Number);
  const dim = Number(flags.dim ?? 200);
  const seed = Number(flags.seed ?? 1);
  const runPeer = (flags.peer ?? (custom ? 'false' : 'true')) !== 'false';

  const backend = await initBackend(backendFromEnv());
  let t = performance.now();
  const d = generateSynthetic({ users: shape.users, items: shape.items, seed, perUser: shape.perUser });
  const { matrix } = buildInteractionMatrix({ user: d.user, item: d.item, weight: d.weight, duplicates: 'max' });
  emit({
    phase: 'data',
    shape: shapeName,
    users: matrix.rows,
    items: matrix.cols,
    interactions: matrix.indices.length,
    seconds: secondsSince(t),
  });

  // the ceiling: one output-layer matMul (batch x last hidden) @ (last hidden x items) on this backend
  const width = hidden.length ? hidden[hidden.length - 1] : dim;
  // (not for sampled training, which has no such product: at 1M items its operand alone is 1 GB)
  const gflops = sampledNegatives > 0 ? null : matMulGflops(batchSize, width, matrix.cols, MATMUL_REPEATS);
  if (gflops !== null)
    emit({ phase: 'matmul', backend: backend.backend, shape: [batchSize, width, matrix.cols], gflops: round(gflops) });
  const dataRssMb = Math.round(process.memoryUsage().rss / 2 ** 20);

  t = performance.now();
  // CPU seconds beside wall seconds: the machine is shared, and wall time then overstates the cost
  let cpuMark = process.cpuUsage();
  const cpuSeconds: number[] = [];
  const result = await trainDae(
    matrix,
    { hidden, embeddingDim: dim },
    {
      seed,
      epochs,
      batchSize,
      threads,
      sampledNegatives,
      carveValidation: 0,
      onEpoch: (e) => {
        const used = process.cpuUsage(cpuMark);
        cpuMark = process.cpuUsage();
        cpuSeconds.push((used.user + used.system) / 1e6);
        emit({
          phase: 'epoch',
          epoch: e.epoch,
          seconds: round(e.seconds),
          users_per_second: Math.round(e.usersPerSecond),
          loss: round(e.loss),
          cpu_seconds: round(cpuSeconds.at(-1)!),
          load_average: round(loadavg()[0]),
        });
      },
    },
  );
  const totalSeconds = secondsSince(t);
  result.model.dispose();
  const perEpoch = result.history.map((h) => h.seconds);
  // the first epoch includes worker start-up and wasm warm-up; report the steady state when we can
  const steady = perEpoch.length > 1 ? perEpoch.slice(1) : perEpoch;
  const secondsPerEpoch = steady.reduce((a, b) => a + b, 0) / steady.length;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  const peer = runPeer
    ? runPytorchPeer(matrix, {
        epochs,
        batchSize,
        hidden,
        dim,
        seed,
        threads: Number(flags['peer-threads'] ?? threads),
        python: flags.python ?? DEFAULT_PYTHON,
      })
    : null;
  const peerSteady = peer
    ? peer.seconds_per_epoch.length > 1
      ? peer.seconds_per_epoch.slice(1)
      : peer.seconds_per_epoch
    : null;
  const peerSecondsPerEpoch = peerSteady ? peerSteady.reduce((a, b) => a + b, 0) / peerSteady.length : null;

  // one output-layer-shaped matMul is 2*B*H*I flops; an epoch does 3 of them per batch (forward, dW, dh)
  const outputLayerFlops = 3 * 2 * matrix.rows * width * matrix.cols;
  return {
    phase: 'summary',
    shape: shapeName,
    users: matrix.rows,
    items: matrix.cols,
    interactions: matrix.indices.length,
    architecture: [matrix.cols, ...hidden, dim, ...[...hidden].reverse(), matrix.cols],
    batch_size: batchSize,
    sampled_negatives: sampledNegatives,
    epochs,
    backend: backend.backend,
    simd: backend.simd,
    threads: result.threads,
    shards: result.shards,
    seconds_per_epoch: round(secondsPerEpoch),
    epoch_seconds: perEpoch.map((s) => round(s)),
    epoch_cpu_seconds: cpuSeconds.map(round),
    users_per_second: Math.round(matrix.rows / secondsPerEpoch),
    total_train_seconds: round(totalSeconds),
    peak_rss_mb: Math.round(peakRssMb),
    rss_before_training_mb: dataRssMb,
    load_average: loadavg().map(round),
    matmul_gflops_ceiling: gflops === null ? null : round(gflops),
    // the full output layer's flops per second (for sampled training: what the full layer would need)
    output_layer_gflops_achieved: round(outputLayerFlops / secondsPerEpoch / 1e9),
    peer: peer ? { ...peer, seconds_per_epoch_steady: round(peerSecondsPerEpoch!) } : null,
    ratio_to_peer: peerSecondsPerEpoch ? round(secondsPerEpoch / peerSecondsPerEpoch) : null,
  };
}

interface PeerResult {
  peer: string;
  torch: string;
  threads: number;
  seconds_per_epoch: number[];
  loss: number;
}

function runPytorchPeer(
  m: CsrMatrix,
  o: {
    epochs: number;
    batchSize: number;
    hidden: number[];
    dim: number;
    seed: number;
    threads: number;
    python: string;
  },
): PeerResult {
  const dir = mkdtempSync(join(tmpdir(), 'recoder-bench-'));
  try {
    // the same CSR, as raw little-endian int32 the peer reads with numpy.fromfile
    const prefix = join(dir, 'data');
    writeFileSync(`${prefix}.json`, JSON.stringify({ users: m.rows, items: m.cols }));
    writeFileSync(`${prefix}.indptr`, Buffer.from(m.indptr.buffer, m.indptr.byteOffset, m.indptr.byteLength));
    writeFileSync(`${prefix}.indices`, Buffer.from(m.indices.buffer, m.indices.byteOffset, m.indices.byteLength));
    const script = join(__dirname, 'peers', 'mult_dae_torch.py');
    const args = [
      script,
      prefix,
      '--epochs',
      String(o.epochs),
      '--batch-size',
      String(o.batchSize),
      '--hidden',
      ...o.hidden.map(String),
      '--dim',
      String(o.dim),
      '--threads',
      String(o.threads),
      '--seed',
      String(o.seed),
    ];
    const run = spawnSync(o.python, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (run.status !== 0)
      throw new Error(`PyTorch peer failed (${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as PeerResult;
    emit({ phase: 'peer', ...result });
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function secondsSince(t: number): number {
  return (performance.now() - t) / 1000;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

runCli(main);
