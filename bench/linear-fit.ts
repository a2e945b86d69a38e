import { availableParallelism, cpus, loadavg } from 'node:os';
import { INTERACTION_FORMATS, isInteractionFormat, readInteractionFile } from '@app/ingest';
import {
  backendFromEnv,
  buildInteractionMatrix,
  CsrMatrix,
  Ease,
  Edlae,
  evaluateRanking,
  EvaluationSplit,
  filterCore,
  IdIndex,
  initBackend,
  LabeledInteractions,
  userRandomSplit,
  userSplitMetrics,
} from '@app/model';
import { generateSynthetic } from '@app/synthetic';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { matMulGflops } from './lib/matmul-gflops';

/**
 * Fit time of EASE on the blocked float32 inverse against the float64 reference, on synthetic sparse
 * binary data, and the GFLOP/s of the matMul shapes the inverse runs. With --data, a real dataset
 * (10-core filtered, the 0.8/0.1/0.1 per-user split's training rows, as `npm run evaluate` fits):
 * the lambda sweep's time, float32 against float64 rankings where the reference is affordable, how
 * much top-k sparsified weights change the top lists and validation metrics, and with --dropouts
 * EDLAE's validation metrics over a (dropout x lambda) grid. JSON lines on stdout.
 */
const FLAGS = [
  'sizes',
  'reference-max',
  'users-per-item',
  'per-user',
  'seed',
  'data',
  'format',
  'lambda',
  'dropout',
  'sample-users',
  'sweep',
  'dropouts',
] as const;
const DEFAULT_SIZES = '2000,5000,10000';
/** evaluate's EASE_LAMBDAS */
const SWEEP = '5,10,20,50,100,200,500,1000';
const TOP = 100;
const TOP_K_WEIGHTS = [50, 100, 200];
/** The shapes the inverse multiplies: a row chunk by a panel (inner BLOCK) and a panel by a block row. */
const MATMUL_SHAPES: [number, number, number][] = [
  [512, 256, 4096],
  [256, 2048, 4096],
  [1024, 1024, 1024],
];
const MATMUL_REPEATS = 3;
const VALIDATION_METRICS = userSplitMetrics(10).filter((m) => m.name === 'ndcg@10' || m.name === 'recall@10');

type FitOptions = { lambda: number; dropout: number };
type Scoring = Pick<Edlae, 'scores'>;

async function main(args: string[]): Promise<void> {
  const flags = parseFlags(args, FLAGS);
  const sizes = (flags.sizes ?? DEFAULT_SIZES).split(',').map(Number);
  if (sizes.some((n) => !(Number.isInteger(n) && n > 1)))
    throw new UsageError('--sizes must be item counts > 1, comma-separated');
  const referenceMax = Number(flags['reference-max'] ?? 3000);
  const options = { lambda: Number(flags.lambda ?? 200), dropout: Number(flags.dropout ?? 0) };
  const sampleUsers = Number(flags['sample-users'] ?? 1000);
  const backend = await initBackend(backendFromEnv());
  emit({
    phase: 'machine',
    cpu: cpus()[0]?.model,
    nproc: availableParallelism(),
    loadavg: loadavg().map(round),
    ...backend,
  });
  for (const shape of MATMUL_SHAPES)
    emit({ phase: 'matmul', shape, gflops: round(matMulGflops(...shape, MATMUL_REPEATS)) });

  if (flags.data) {
    const format = flags.format ?? 'csv';
    if (!isInteractionFormat(format)) throw new UsageError(`--format must be one of ${INTERACTION_FORMATS.join(', ')}`);
    const split = await splitOf(flags.data, format);
    const { train } = split;
    emit({ phase: 'data', path: flags.data, users: train.rows, items: train.cols, interactions: train.indices.length });
    dataChecks(split, flags.sweep ?? SWEEP, options, referenceMax, sampleUsers);
    if (flags.dropouts) dropoutGrid(split, list(flags.sweep ?? SWEEP), list(flags.dropouts));
    return;
  }
  const seed = Number(flags.seed ?? 1);
  for (const items of sizes) {
    const users = Math.round(items * Number(flags['users-per-item'] ?? 2));
    const d = generateSynthetic({ users, items, seed, perUser: Number(flags['per-user'] ?? 40) });
    const { matrix } = buildInteractionMatrix({ user: d.user, item: d.item, weight: d.weight, duplicates: 'max' });
    const [fast, fastSeconds, fastCpu] = timed(() =>
      Edlae.fit(matrix, options, { side: 'primal', precision: 'float32' }),
    );
    const n = matrix.cols;
    const line: Record<string, unknown> = {
      phase: 'fit',
      items: n,
      users: matrix.rows,
      interactions: matrix.indices.length,
      ...options,
      float32_seconds: round(fastSeconds),
      float32_cpu_seconds: round(fastCpu),
      float32_gflops_per_cpu_second: round(n ** 3 / fastCpu / 1e9),
      loadavg: loadavg().map(round),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    if (n <= referenceMax) {
      const [exact, exactSeconds, exactCpu] = timed(() =>
        Edlae.fit(matrix, options, { side: 'primal', precision: 'float64' }),
      );
      Object.assign(line, {
        float64_seconds: round(exactSeconds),
        float64_cpu_seconds: round(exactCpu),
        cpu_speedup: round(exactCpu / fastCpu),
        ...agreement(fast, exact, matrix, sampleUsers),
      });
    }
    emit(line);
  }
}

/** The lambda sweep, float32 against float64, and the top-k sparsified weights, on one training set. */
function dataChecks(
  split: EvaluationSplit,
  sweep: string,
  options: FitOptions,
  referenceMax: number,
  sampleUsers: number,
): void {
  const { train, validation } = split;
  const lambdas = list(sweep);
  // one model alive at a time, as evaluate's sweep keeps them
  const [, pathSeconds, pathCpu] = timed(() => {
    for (const model of Ease.fitPath(train, lambdas)) void model.lambda;
  });
  const [, oneByOneSeconds, oneByOneCpu] = timed(() => lambdas.map((lambda) => Ease.fit(train, lambda).lambda));
  emit({
    phase: 'sweep',
    lambdas,
    fit_path_seconds: round(pathSeconds),
    fit_path_cpu_seconds: round(pathCpu),
    one_by_one_seconds: round(oneByOneSeconds),
    one_by_one_cpu_seconds: round(oneByOneCpu),
    loadavg: loadavg().map(round),
  });

  const [fast, fastSeconds, fastCpu] = timed(() => Edlae.fit(train, options, { precision: 'float32' }));
  const line: Record<string, unknown> = {
    phase: 'accuracy',
    ...options,
    float32_seconds: round(fastSeconds),
    float32_cpu_seconds: round(fastCpu),
  };
  if (Math.min(train.rows, train.cols) <= referenceMax) {
    const [exact, exactSeconds, exactCpu] = timed(() => Edlae.fit(train, options, { precision: 'float64' }));
    const reference = { float64_seconds: round(exactSeconds), float64_cpu_seconds: round(exactCpu) };
    Object.assign(line, reference, agreement(fast, exact, train, sampleUsers));
  }
  emit(line);
  // evaluate's user-split metrics on the validation rows, for the dense model and each sparse one
  const onValidation = (model: Scoring) => validationMetrics(model, validation!);
  emit({ phase: 'dense weights', kept: fast.weights.length, ...onValidation(fast) });
  for (const by of ['row', 'column'] as const) {
    for (const k of TOP_K_WEIGHTS) {
      const sparse = fast.topK(k, by);
      const overlap = (top: number) => round(meanOverlap(sparse, fast, train, sampleUsers, top));
      const kept = sparse.weights.indices.length;
      const overlaps = { top100_overlap_with_dense: overlap(100), top10_overlap_with_dense: overlap(10) };
      emit({ phase: 'top-k weights', by, k, kept, ...overlaps, ...onValidation(sparse) });
    }
  }
}

/** EDLAE on a (dropout x lambda) grid, scored on the validation rows: whether dropout beats EASE (dropout 0). */
function dropoutGrid({ train, validation }: EvaluationSplit, lambdas: number[], dropouts: number[]): void {
  for (const dropout of dropouts) {
    const path = lambdas.map((lambda) => ({ lambda, dropout }));
    let k = 0;
    for (const model of Edlae.fitPath(train, path))
      emit({ phase: 'edlae', ...path[k++], ...validationMetrics(model, validation!) });
  }
}

/** evaluate's user-split metrics at 10 on the validation rows. */
function validationMetrics(
  model: Scoring,
  validation: NonNullable<EvaluationSplit['validation']>,
): Record<string, number> {
  const scorer = (rows: CsrMatrix, start: number, end: number) => model.scores(rows, start, end);
  const values = evaluateRanking(scorer, validation.input, validation.heldOut, VALIDATION_METRICS);
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [`validation_${name}`, Math.round(value * 1e4) / 1e4]),
  );
}

/** How far the float32 fit is from the float64 one: weights, scores, and the top-100 lists. */
function agreement(fast: Edlae, exact: Edlae, rows: CsrMatrix, sampleUsers: number): Record<string, number> {
  let num = 0;
  let den = 0;
  for (let k = 0; k < exact.weights.length; k++) {
    num = Math.max(num, Math.abs(fast.weights[k] - exact.weights[k]));
    den = Math.max(den, Math.abs(exact.weights[k]));
  }
  const users = Math.min(sampleUsers, rows.rows);
  const a = fast.scores(rows, 0, users);
  const b = exact.scores(rows, 0, users);
  let scoreErr = 0;
  for (let r = 0; r < users; r++) {
    const row = b.subarray(r * fast.items, (r + 1) * fast.items);
    const scale = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    for (let j = 0; j < fast.items; j++)
      scoreErr = Math.max(scoreErr, Math.abs(a[r * fast.items + j] - row[j]) / scale);
  }
  const overlap = round(meanOverlap(fast, exact, rows, sampleUsers));
  return { weights_max_rel_error: num / den, scores_max_rel_error: scoreErr, top100_overlap: overlap };
}

/** Mean share of the first `sampleUsers` users' top lists (their own items left out) the two models share. */
function meanOverlap(a: Scoring, b: Scoring, rows: CsrMatrix, sampleUsers: number, top = TOP): number {
  const users = Math.min(sampleUsers, rows.rows);
  const items = rows.cols;
  const sa = a.scores(rows, 0, users);
  const sb = b.scores(rows, 0, users);
  let total = 0;
  for (let r = 0; r < users; r++) {
    const own = new Set(rows.indices.subarray(rows.indptr[r], rows.indptr[r + 1]));
    const best = (s: Float32Array) => new Set(topIndexes(s.subarray(r * items, (r + 1) * items), own, top));
    const ta = best(sa);
    let shared = 0;
    for (const j of best(sb)) if (ta.has(j)) shared++;
    total += shared / Math.min(top, items - own.size);
  }
  return total / users;
}

function topIndexes(scores: Float32Array, skip: Set<number>, k: number): number[] {
  const order = Array.from({ length: scores.length }, (_, j) => j).filter((j) => !skip.has(j));
  return order.sort((x, y) => scores[y] - scores[x] || x - y).slice(0, k);
}

/** evaluate's split: --min-rating 0, 10-core, the per-user 0.8/0.1/0.1 split of seed 1. */
async function splitOf(path: string, format: (typeof INTERACTION_FORMATS)[number]): Promise<EvaluationSplit> {
  const users = new IdIndex();
  const items = new IdIndex();
  const user: number[] = [];
  const item: number[] = [];
  const weight: number[] = [];
  for await (const row of readInteractionFile(path, format)) {
    user.push(users.intern(row.user));
    item.push(items.intern(row.item));
    weight.push(row.weight);
  }
  const data: LabeledInteractions = {
    users,
    items,
    user: Int32Array.from(user),
    item: Int32Array.from(item),
    weight: Float32Array.from(weight),
  };
  return userRandomSplit(filterCore(data, 10, 10), 1, [0.8, 0.1, 0.1]);
}

/** The value, its wall seconds, and this process's CPU seconds (the machine is shared: wall time alone misleads). */
function timed<T>(f: () => T): [T, number, number] {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const value = f();
  const used = process.cpuUsage(cpu);
  return [value, secondsSince(t), (used.user + used.system) / 1e6];
}

const list = (csv: string) => csv.split(',').map(Number);
const secondsSince = (t: number) => (performance.now() - t) / 1000;
const round = (x: number) => Math.round(x * 1000) / 1000;
const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

runCli(main);
