import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pairedDifference } from '@app/model';
import { parseFlags, runCli, UsageError } from './cli';
import { SUITE_DATASETS, SuiteDataset } from './suite-datasets';

/**
 * The generalisation suite: `evaluate` on every dataset of ../shared/data under one protocol (the
 * 10-core user split, k 10, three seeds) and the strong protocol on the MovieLens sets, at the
 * shared defaults, with the textbook Mult-DAE (Liang et al. 2018) on the same splits as the floor.
 * Each run is its own process (its memory is returned between datasets). Progress on stderr, the
 * Markdown table on stderr at the end (and in --markdown FILE), one JSON line on stdout.
 */
/** `--epochs` caps every run's epochs: for quick checks of the suite itself, never for its table. */
const FLAGS = [
  'datasets',
  'seeds',
  'data-dir',
  'out',
  'markdown',
  'tune-budget',
  'reference',
  'protocols',
  'epochs',
  'runs-dir',
] as const;

/** Liang et al. 2018's Mult-DAE: [I-600-200-600-I], tanh, multinomial, dropout 0.5, Adam 1e-3. */
const MULT_DAE_REFERENCE = [
  '--item-term',
  'false',
  '--hidden',
  '600',
  '--dim',
  '200',
  '--loss',
  'multinomial',
  '--dropout',
  '0.5',
  '--lr',
  '1e-3',
  '--weight-decay',
  '0',
  '--batch-size',
  '500',
];

type Protocol = 'user-split' | 'strong';

interface Run {
  dataset: SuiteDataset;
  protocol: Protocol;
  model: 'defaults' | 'tuned' | 'mult-dae';
}

async function main(args: string[]): Promise<unknown> {
  const flags = parseFlags(args, FLAGS);
  const dataDir = resolve(flags['data-dir'] ?? join(__dirname, '..', '..', 'shared', 'data'));
  const names = flags.datasets ? flags.datasets.split(',').map((s) => s.trim()) : SUITE_DATASETS.map((d) => d.name);
  const unknown = names.filter((n) => !SUITE_DATASETS.some((d) => d.name === n));
  if (unknown.length)
    throw new UsageError(
      `unknown dataset(s) ${unknown.join(', ')} (known: ${SUITE_DATASETS.map((d) => d.name).join(', ')})`,
    );
  const seeds = flags.seeds ?? '1,2,3';
  const protocols = (flags.protocols ?? 'user-split,strong').split(',') as Protocol[];
  if (protocols.some((p) => p !== 'user-split' && p !== 'strong'))
    throw new UsageError('--protocols takes user-split and/or strong');
  const reference = flags.reference !== 'false';
  if (flags['tune-budget'] !== undefined && !(Number(flags['tune-budget']) > 0))
    throw new UsageError('--tune-budget must be a positive number of seconds');

  const runs: Run[] = [];
  for (const dataset of SUITE_DATASETS.filter((d) => names.includes(d.name))) {
    for (const protocol of protocols) {
      if (protocol === 'strong' && !dataset.strong) continue;
      runs.push({ dataset, protocol, model: 'defaults' });
      if (flags['tune-budget'] && protocol === 'user-split') runs.push({ dataset, protocol, model: 'tuned' });
      if (reference && protocol === 'user-split') runs.push({ dataset, protocol, model: 'mult-dae' });
    }
  }
  // --runs-dir keeps each run's result and reuses it on the next call: an interrupted suite resumes
  const keep = flags['runs-dir'] ? resolve(flags['runs-dir']) : null;
  if (keep) mkdirSync(keep, { recursive: true });
  const work = keep ?? mkdtempSync(join(tmpdir(), 'recoder-suite-'));
  const started = performance.now();
  const results: SuiteRow[] = [];
  // the defaults' per-user test values, paired with the tuned run's on the same seeds
  const perUser = new Map<string, Record<string, number[]>>();
  try {
    for (const [n, run] of runs.entries()) {
      const args = [
        ...evaluateArgs(run, dataDir, seeds, flags['tune-budget']),
        ...(flags.epochs ? ['--epochs', flags.epochs] : []),
      ];
      const out = join(work, `${run.dataset.name}-${run.protocol}-${run.model}.json`);
      const kept = keep && existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as EvaluateResult) : null;
      if (kept && kept.seeds.join(',') === seeds) {
        progress(`[${n + 1}/${runs.length}] ${run.dataset.name} ${run.protocol} ${run.model}: kept from ${out}`);
      } else {
        progress(
          `[${n + 1}/${runs.length}] ${run.dataset.name} ${run.protocol} ${run.model} (${elapsed(started)} so far)`,
        );
        await evaluate([...args, '--out', out]);
      }
      const result = JSON.parse(readFileSync(out, 'utf8')) as EvaluateResult;
      results.push(summarizeRun(run, result, perUser.get(`${run.dataset.name} ${run.protocol}`)));
      if (run.model === 'defaults') perUser.set(`${run.dataset.name} ${run.protocol}`, result.dae_per_user);
    }
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
  const table = markdown(results);
  progress(`\n${table}`);
  if (flags.markdown) writeFileSync(flags.markdown, table);
  const summary = {
    seeds,
    seconds: +((performance.now() - started) / 1000).toFixed(1),
    rows: results,
    mean_user_split: meanOfDatasets(results),
  };
  if (flags.out) writeFileSync(flags.out, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

function evaluateArgs(run: Run, dataDir: string, seeds: string, tuneBudget?: string): string[] {
  const { dataset, protocol } = run;
  const args = [
    '--data',
    join(dataDir, dataset.file),
    '--format',
    dataset.format,
    '--protocol',
    protocol,
    '--seeds',
    seeds,
    '--per-user',
  ];
  if (protocol === 'user-split') {
    args.push(
      '--min-rating',
      String(dataset.minRating),
      '--min-user-interactions',
      '10',
      '--min-item-interactions',
      '10',
      '--split',
      '0.8,0.1,0.1',
      '--k',
      '10',
    );
  } else {
    args.push('--min-rating', String(dataset.strong!.minRating));
  }
  if (run.model === 'mult-dae') args.push(...MULT_DAE_REFERENCE);
  if (run.model === 'tuned') args.push('--tune-budget', tuneBudget!);
  return args;
}

function evaluate(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'evaluate.ts'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
      process.stderr.write(chunk);
    });
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0
        ? done()
        : fail(new Error(`evaluate ${args.join(' ')} exited ${code}: ${tail.trim().split('\n').at(-1)}`)),
    );
  });
}

interface SuiteRow {
  dataset: string;
  protocol: Protocol;
  model: Run['model'];
  users: number;
  items: number;
  interactions: number;
  dae: Record<string, number>;
  ease: Record<string, number>;
  popularity: Record<string, number>;
  dae_minus_ease: Record<string, { mean: number; se: number; users: number }>;
  train_seconds_per_seed: number;
  best_epochs: number[];
  ease_lambdas: number[];
  tuned?: unknown;
  /** Tuned runs: tuned minus defaults, paired over the same test users. */
  tuned_minus_defaults?: Record<string, { mean: number; se: number; users: number }>;
}

function summarizeRun(run: Run, r: EvaluateResult, defaults?: Record<string, number[]>): SuiteRow {
  const metricNames = run.protocol === 'strong' ? ['ndcg@100', 'recall@20', 'recall@50'] : ['ndcg@10', 'recall@10'];
  const pick = (m: Record<string, number>) => Object.fromEntries(metricNames.map((k) => [k, m[k]]));
  return {
    dataset: run.dataset.name,
    protocol: run.protocol,
    model: run.model,
    users: r.users,
    items: r.items,
    interactions: r.interactions,
    dae: pick(r.dae),
    ease: pick(r.ease),
    popularity: pick(r.popularity),
    dae_minus_ease: Object.fromEntries(metricNames.map((k) => [k, r.dae_minus_ease[k]])),
    train_seconds_per_seed: +(r.train_seconds / r.seeds.length).toFixed(1),
    best_epochs: r.per_seed.map((s) => s.best_epoch),
    ease_lambdas: r.per_seed.map((s) => s.ease_lambda),
    ...(r.per_seed.some((s) => s.tuned) && { tuned: r.per_seed.map((s) => s.tuned) }),
    ...(run.model === 'tuned' &&
      defaults && {
        tuned_minus_defaults: Object.fromEntries(metricNames.map((k) => [k, paired(r.dae_per_user[k], defaults[k])])),
      }),
  };
}

function paired(a: number[], b: number[]): { mean: number; se: number; users: number } {
  const d = pairedDifference([Float64Array.from(a)], [Float64Array.from(b)]);
  return { mean: +d.mean.toFixed(5), se: +d.se.toFixed(5), users: d.users };
}

/** The user-split means over the datasets run, at defaults: the acceptance's "mean over the five". */
function meanOfDatasets(rows: SuiteRow[]): Record<string, Record<string, number>> | null {
  const picked = rows.filter((r) => r.protocol === 'user-split' && r.model === 'defaults');
  if (!picked.length) return null;
  const mean = (f: (r: SuiteRow) => number) => +(picked.reduce((s, r) => s + f(r), 0) / picked.length).toFixed(5);
  const out: Record<string, Record<string, number>> = {};
  for (const k of ['ndcg@10', 'recall@10'])
    out[k] = { dae: mean((r) => r.dae[k]), ease: mean((r) => r.ease[k]), popularity: mean((r) => r.popularity[k]) };
  return out;
}

function markdown(rows: SuiteRow[]): string {
  const lines: string[] = [];
  for (const protocol of ['user-split', 'strong'] as const) {
    const own = rows.filter((r) => r.protocol === protocol);
    if (!own.length) continue;
    const metricNames = Object.keys(own[0].dae);
    const refOf = (d: string) => own.find((r) => r.dataset === d && r.model === 'mult-dae');
    lines.push(
      protocol === 'user-split'
        ? '**10-core user split 80/10/10, k 10**'
        : '**Strong generalisation (Liang et al. 2018)**',
      '',
    );
    lines.push(
      `| dataset (users x items) | ${metricNames.map((m) => `${m}: DAE / EASE / popularity`).join(' | ')} | ${metricNames.map((m) => `DAE − EASE ${m} (se)`).join(' | ')} |${protocol === 'user-split' ? ' Mult-DAE reference |' : ''} train s / seed | epochs |`,
    );
    lines.push(
      `| --- | ${metricNames.map(() => '---').join(' | ')} | ${metricNames.map(() => '---').join(' | ')} |${protocol === 'user-split' ? ' --- |' : ''} --- | --- |`,
    );
    for (const r of own.filter((x) => x.model === 'defaults')) {
      const ref = refOf(r.dataset);
      const cells = [
        `${r.dataset} (${r.users.toLocaleString('en')} x ${r.items.toLocaleString('en')})`,
        ...metricNames.map((m) => `${f4(r.dae[m])} / ${f4(r.ease[m])} / ${f4(r.popularity[m])}`),
        ...metricNames.map((m) => `${signed(r.dae_minus_ease[m].mean)} (${f4(r.dae_minus_ease[m].se)})`),
        ...(protocol === 'user-split' ? [ref ? metricNames.map((m) => f4(ref.dae[m])).join(' / ') : '—'] : []),
        String(r.train_seconds_per_seed),
        r.best_epochs.join(', '),
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  const tuned = rows.filter((r) => r.model === 'tuned');
  if (tuned.length) {
    lines.push('**Tuned within the budget against the defaults** (paired over the same test users)', '');
    lines.push(
      '| dataset | NDCG@10 tuned / defaults | tuned − defaults (se) | Recall@10 tuned / defaults | tuned − defaults (se) | chosen (seed by seed) |',
    );
    lines.push('| --- | --- | --- | --- | --- | --- |');
    for (const r of tuned) {
      const base = rows.find((x) => x.dataset === r.dataset && x.protocol === r.protocol && x.model === 'defaults')!;
      const d = r.tuned_minus_defaults!;
      const chosen = (r.tuned as { settings: Record<string, unknown> }[])
        .map((t) => JSON.stringify(t.settings))
        .join('; ');
      lines.push(
        `| ${r.dataset} | ${f4(r.dae['ndcg@10'])} / ${f4(base.dae['ndcg@10'])} | ${signed(d['ndcg@10'].mean)} (${f4(d['ndcg@10'].se)}) | ${f4(r.dae['recall@10'])} / ${f4(base.dae['recall@10'])} | ${signed(d['recall@10'].mean)} (${f4(d['recall@10'].se)}) | \`${chosen}\` |`,
      );
    }
    lines.push('');
  }
  const means = meanOfDatasets(rows);
  if (means)
    lines.push(
      `Mean over the user-split datasets: ${Object.entries(means)
        .map(([m, v]) => `${m} DAE ${f4(v.dae)}, EASE ${f4(v.ease)}, popularity ${f4(v.popularity)}`)
        .join('; ')}.`,
      '',
    );
  return lines.join('\n');
}

interface EvaluateResult {
  users: number;
  items: number;
  interactions: number;
  seeds: number[];
  train_seconds: number;
  dae: Record<string, number>;
  ease: Record<string, number>;
  popularity: Record<string, number>;
  dae_minus_ease: Record<string, { mean: number; se: number; users: number }>;
  per_seed: { best_epoch: number; ease_lambda: number; tuned?: unknown }[];
  dae_per_user: Record<string, number[]>;
}

const f4 = (x: number) => x.toFixed(4);
const signed = (x: number) => (x >= 0 ? `+${x.toFixed(4)}` : x.toFixed(4));
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(0)} s`;

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

runCli(main);
