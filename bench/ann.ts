import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendFromEnv, DaeModel, initBackend, ItemIndex, RankedItems, Ranking } from '@app/model';
import { structuredModel } from '../libs/model/src/ann/structured-model.fixture';
import { parseFlags, runCli, UsageError } from '../scripts/cli';

/**
 * The approximate item index against the exact ranking, on an output layer shaped like a trained
 * one (clustered items, popularity in norms and biases: libs/model/src/ann/structured-model.fixture.ts):
 * build seconds and bytes, recall@k of rank and rankSimilar against their exact paths, and the
 * milliseconds a row costs each way, in batches as the scoring pool sends them. JSON lines.
 */
const FLAGS = [
  'items',
  'dim',
  'users',
  'k',
  'batch',
  'threads',
  'quantization',
  'metric',
  'connectivity',
  'norm-ranges',
  'seed',
  'tune',
  'search',
  'clusters',
  'probes',
];

async function main(args: string[]): Promise<unknown> {
  const flags = parseFlags(args, FLAGS);
  const num = (name: string, fallback: number) => {
    const value = Number(flags[name] ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${name} must be a number`);
    return value;
  };
  const [items, dim, userCount, k, batch] = [
    num('items', 200_000),
    num('dim', 256),
    num('users', 200),
    num('k', 100),
    num('batch', 16),
  ];
  const threads = num('threads', availableParallelism());
  const options = {
    threads,
    quantization: (flags.quantization ?? undefined) as 'f32' | 'f16' | 'i8' | undefined,
    scoreMetric: (flags.metric ?? undefined) as 'ip' | 'cos' | undefined,
    connectivity: flags.connectivity ? num('connectivity', 16) : undefined,
    normRanges: flags['norm-ranges'] ? num('norm-ranges', 1) : undefined,
    search: (flags.search ?? undefined) as 'graphs' | 'clusters' | undefined,
    clusters: flags.clusters ? num('clusters', 1) : undefined,
  };
  if (options.search && !['graphs', 'clusters'].includes(options.search))
    throw new UsageError('--search takes graphs or clusters');
  const info = await initBackend(backendFromEnv());
  const machine = { cpu: cpus()[0]?.model, cores: availableParallelism(), backend: info.backend };
  const line = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, loadavg: loadavg().map(round) })}\n`);

  const fixture = structuredModel(items, dim, num('seed', 1));
  const users = fixture.users(userCount);
  const exact = new DaeModel(fixture.config, fixture.params);
  const dir = mkdtempSync(join(tmpdir(), 'bench-ann-'));
  try {
    let t = performance.now();
    const built = await ItemIndex.build(exact, options);
    const buildSeconds = (performance.now() - t) / 1000;
    const files = built.save(dir);
    const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    line({ phase: 'build', items, dim, ...options, buildSeconds: round(buildSeconds), bytes, ...machine });
    const indexed = exact.withIndex(ItemIndex.view(dir));
    // --tune share:ef,...: the share of a row's wanted candidates asked of each norm range and the
    // score search expansion (ef), each pair measured on the one build
    // --probes n,...: with clusters, a rank and a similar line per number of clusters a row probes
    const probeCounts = (flags.probes ?? '').split(',').filter(Boolean).map(Number);
    if (probeCounts.some((n) => !(n >= 1))) throw new UsageError('--probes takes cluster counts, e.g. 16,32');
    const tunings = (flags.tune ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split(':').map(Number));
    if (tunings.some(([share, ef]) => !(share > 0) || !(ef > 0)))
      throw new UsageError('--tune takes share:expansion pairs, e.g. 0.125:200');

    const rankings: Ranking[] = Array.from({ length: userCount }, () => ({ k, exclude: [] }));
    // first calls pack (and on wasm quantise) the output layer: not part of a row's cost
    exact.rank({ embeddings: users.subarray(0, dim) }, rankings.slice(0, 1));
    indexed.rank({ embeddings: users.subarray(0, dim) }, rankings.slice(0, 1));
    exact.rankSimilar([0], rankings.slice(0, 1));
    indexed.rankSimilar([0], rankings.slice(0, 1));
    const timed = (rank: (start: number, end: number) => RankedItems[]) => {
      const out: RankedItems[] = [];
      t = performance.now();
      for (let start = 0; start < userCount; start += batch)
        out.push(...rank(start, Math.min(userCount, start + batch)));
      return { out, msPerRow: (performance.now() - t) / userCount };
    };
    const rankWith = (model: DaeModel) => (start: number, end: number) =>
      model.rank({ embeddings: users.subarray(start * dim, end * dim) }, rankings.slice(start, end));
    const want = timed(rankWith(exact));
    const got = timed(rankWith(indexed));
    line({
      phase: 'rank',
      items,
      dim,
      k,
      rows: userCount,
      batch,
      recall: round(recall(got.out, want.out)),
      exactMsPerRow: round(want.msPerRow),
      indexMsPerRow: round(got.msPerRow),
    });
    const queries = Array.from({ length: userCount }, (_, n) => Math.floor((n * items) / userCount));
    const similarWith = (model: DaeModel) => (start: number, end: number) =>
      model.rankSimilar(queries.slice(start, end), rankings.slice(start, end));
    const wantSimilar = timed(similarWith(exact));
    for (const probes of probeCounts) {
      const probed = exact.withIndex(ItemIndex.view(dir, { probes, similarProbes: probes }));
      // first calls lay the layer out cluster by cluster, once per kind: not part of a row's cost
      probed.rank({ embeddings: users.subarray(0, dim) }, rankings.slice(0, 1));
      probed.rankSimilar([0], rankings.slice(0, 1));
      const gotProbed = timed(rankWith(probed));
      const wantAgain = timed(rankWith(exact));
      line({
        phase: 'rank',
        items,
        dim,
        k,
        probes,
        recall: round(recall(gotProbed.out, want.out)),
        exactMsPerRow: round(wantAgain.msPerRow),
        indexMsPerRow: round(gotProbed.msPerRow),
      });
      const gotSimilar = timed(similarWith(probed));
      const wantSimilarAgain = timed(similarWith(exact));
      line({
        phase: 'similar',
        items,
        dim,
        k,
        probes,
        recall: round(recall(gotSimilar.out, wantSimilar.out)),
        exactMsPerRow: round(wantSimilarAgain.msPerRow),
        indexMsPerRow: round(gotSimilar.msPerRow),
      });
      probed.dispose();
    }
    for (const [rangeShare, scoreExpansion] of tunings) {
      const shared = exact.withIndex(ItemIndex.view(dir, { rangeShare, scoreExpansion }));
      shared.rank({ embeddings: users.subarray(0, dim) }, rankings.slice(0, 1));
      const gotShared = timed(rankWith(shared));
      const wantAgain = timed(rankWith(exact));
      line({
        phase: 'rank',
        items,
        dim,
        k,
        rangeShare,
        scoreExpansion,
        recall: round(recall(gotShared.out, want.out)),
        exactMsPerRow: round(wantAgain.msPerRow),
        indexMsPerRow: round(gotShared.msPerRow),
      });
      shared.dispose();
    }

    const gotSimilar = timed(similarWith(indexed));
    line({
      phase: 'similar',
      items,
      dim,
      k,
      rows: userCount,
      batch,
      recall: round(recall(gotSimilar.out, wantSimilar.out)),
      exactMsPerRow: round(wantSimilar.msPerRow),
      indexMsPerRow: round(gotSimilar.msPerRow),
    });
    indexed.dispose();
    exact.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return undefined;
}

/** Share of the exact rankings' items the approximate ones found. */
function recall(got: RankedItems[], want: RankedItems[]): number {
  let [hits, of] = [0, 0];
  want.forEach((w, r) => {
    const found = new Set(got[r].items);
    w.items.forEach((i) => (hits += found.has(i) ? 1 : 0));
    of += w.items.length;
  });
  return of === 0 ? 1 : hits / of;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

runCli(main);
