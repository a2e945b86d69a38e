import { CsrMatrix } from '../interaction-matrix';
import { topKRows } from '../score';

/**
 * Top-k ranking metrics for one user: `ranked` is the recommendation list, best first;
 * `isRelevant(item)` says whether the item is held out for the user; `relevantCount` how many are.
 * Binary relevance throughout.
 */
export type MetricKind = 'recall' | 'truncated-recall' | 'ndcg' | 'mrr' | 'hit' | 'precision';

export interface MetricSpec {
  name: string;
  kind: MetricKind;
  k: number;
}

export function metricValue(
  kind: MetricKind,
  k: number,
  ranked: ArrayLike<number>,
  isRelevant: (item: number) => boolean,
  relevantCount: number,
): number {
  if (relevantCount === 0) return 0;
  const n = Math.min(k, ranked.length);
  let hits = 0;
  let dcg = 0;
  let firstHit = -1;
  for (let r = 0; r < n; r++) {
    if (!isRelevant(ranked[r])) continue;
    hits++;
    dcg += 1 / Math.log2(r + 2);
    if (firstHit < 0) firstHit = r;
  }
  switch (kind) {
    case 'recall':
      return hits / relevantCount;
    case 'truncated-recall':
      // Liang et al.: a user with more than k held-out items can still reach 1
      return hits / Math.min(k, relevantCount);
    case 'ndcg': {
      let idcg = 0;
      for (let r = 0; r < Math.min(k, relevantCount); r++) idcg += 1 / Math.log2(r + 2);
      return dcg / idcg;
    }
    case 'mrr':
      return firstHit < 0 ? 0 : 1 / (firstHit + 1);
    case 'hit':
      return hits > 0 ? 1 : 0;
    case 'precision':
      return hits / k;
  }
}

/** Liang et al.'s strong-generalisation metrics. */
export const STRONG_METRICS: MetricSpec[] = [
  { name: 'recall@20', kind: 'truncated-recall', k: 20 },
  { name: 'recall@50', kind: 'truncated-recall', k: 50 },
  { name: 'ndcg@100', kind: 'ndcg', k: 100 },
];

/** RecBole / Microsoft Recommenders' metrics at one k. */
export function userSplitMetrics(k: number): MetricSpec[] {
  return (['recall', 'ndcg', 'mrr', 'hit', 'precision'] as const).map((kind) => ({ name: `${kind}@${k}`, kind, k }));
}

/** Scores a block of users' rows (rows x items, row-major). */
export type Scorer = (rows: CsrMatrix, start: number, end: number) => Float32Array;

export const EVAL_CHUNK_ROWS = 512;
/**
 * Scores per scorer call at most (256 MB of float32): past 131,072 items a call takes fewer rows
 * than EVAL_CHUNK_ROWS. At 1M items 512 rows were a 2 GB block in the wasm backend's heap beside
 * the 1 GB output layer; its 4 GB ceiling then failed an allocation, which corrupted the heap.
 */
export const EVAL_BLOCK_SCORES = 2 ** 26;

/**
 * Mean of each metric over users with at least one held-out item. `input` row r is what the scorer
 * sees for the user and is excluded from the ranking; `heldOut` row r is what should be found.
 * `heldOut` may have more columns than `input`: items the scorer cannot rank, which count as misses.
 */
export function evaluateRanking(
  scorer: Scorer,
  input: CsrMatrix,
  heldOut: CsrMatrix,
  metrics: readonly MetricSpec[],
): Record<string, number> {
  return metricMeans(metrics, metricValues(scorer, input, heldOut, metrics));
}

/** Each metric's mean over the users of metricValues' answer, by metric name. */
export function metricMeans(metrics: readonly MetricSpec[], values: readonly Float64Array[]): Record<string, number> {
  const out: Record<string, number> = {};
  metrics.forEach((m, j) => (out[m.name] = meanInOrder([values[j]])));
  return out;
}

/**
 * Each metric's value for each user with at least one held-out item, in row order (one array per
 * metric): what evaluateRanking averages, for callers that score the users in parts.
 */
export function metricValues(
  scorer: Scorer,
  input: CsrMatrix,
  heldOut: CsrMatrix,
  metrics: readonly MetricSpec[],
): Float64Array[] {
  if (input.rows !== heldOut.rows) throw new RangeError('input and held-out rows differ');
  const maxK = Math.max(...metrics.map((m) => m.k));
  const values = metrics.map(() => new Float64Array(input.rows));
  // held-out columns past the scorer's catalogue are relevant but never ranked: misses
  const relevant = new Uint8Array(Math.max(input.cols, heldOut.cols));
  let users = 0;
  const chunk = Math.max(1, Math.min(EVAL_CHUNK_ROWS, Math.floor(EVAL_BLOCK_SCORES / Math.max(1, input.cols))));
  for (let start = 0; start < input.rows; start += chunk) {
    const end = Math.min(input.rows, start + chunk);
    const scores = scorer(input, start, end);
    const ranked = topKRows(scores, input.cols, maxK, input, start);
    for (let r = start; r < end; r++) {
      const held = heldOut.indices.subarray(heldOut.indptr[r], heldOut.indptr[r + 1]);
      if (held.length === 0) continue;
      for (const i of held) relevant[i] = 1;
      metrics.forEach(
        (m, j) =>
          (values[j][users] = metricValue(m.kind, m.k, ranked[r - start], (i) => relevant[i] === 1, held.length)),
      );
      for (const i of held) relevant[i] = 0;
      users++;
    }
  }
  return values.map((v) => v.slice(0, users));
}

/** The mean of parts' values taken one after another, summed in that order (0 when there are none). */
export function meanInOrder(parts: readonly Float64Array[]): number {
  let sum = 0;
  let n = 0;
  for (const part of parts) {
    for (const v of part) sum += v;
    n += part.length;
  }
  return n ? sum / n : 0;
}

/** A's minus B's metric on the same users: the mean difference, its standard error, and how many users. */
export interface PairedDifference {
  mean: number;
  se: number;
  users: number;
}

/**
 * Paired over users (a[u] and b[u] are one user's values under two models, parts one per seed):
 * on held-out sets of ~100 users a seed, two models' means can differ by less than this standard
 * error, and then neither leads.
 */
export function pairedDifference(a: readonly Float64Array[], b: readonly Float64Array[]): PairedDifference {
  if (a.length !== b.length || a.some((part, p) => part.length !== b[p].length))
    throw new RangeError('paired values must cover the same users');
  let n = 0;
  let sum = 0;
  for (let p = 0; p < a.length; p++) {
    for (let u = 0; u < a[p].length; u++) sum += a[p][u] - b[p][u];
    n += a[p].length;
  }
  const mean = n ? sum / n : 0;
  let squares = 0;
  for (let p = 0; p < a.length; p++) for (let u = 0; u < a[p].length; u++) squares += (a[p][u] - b[p][u] - mean) ** 2;
  const se = n > 1 ? Math.sqrt(squares / (n - 1) / n) : NaN;
  return { mean, se, users: n };
}
