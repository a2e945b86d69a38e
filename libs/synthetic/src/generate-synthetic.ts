import { createRng, Rng } from '@app/random';

/**
 * Seeded synthetic interactions with latent structure, so a model has something real to learn:
 * items have latent vectors and power-law popularity; users belong to a primary and a secondary
 * taste cluster and draw their items from those clusters' softmax(pop * affinity) distributions.
 */
export interface SyntheticOptions {
  users: number;
  items: number;
  seed: number;
  /** Mean interactions per user (lognormal, at least minPerUser). */
  perUser?: number;
  minPerUser?: number;
  /** Latent dimension of the taste space. */
  factors?: number;
  clusters?: number;
  /** Zipf exponent of item popularity. */
  popularityExponent?: number;
  /** How strongly taste beats popularity (0 = popularity only). */
  affinity?: number;
  /** Share of a user's items drawn from the primary cluster (rest: secondary). */
  primaryShare?: number;
  /**
   * Fake users appended after the real ones, for anomaly detection: `random` bots pick items
   * uniformly; `shilling` bots all push one target item, padded with uniform filler items.
   */
  bots?: { share: number; kind: 'random' | 'shilling'; perBot?: number };
}

export const INTERACTION_TYPES = ['view', 'click', 'purchase'] as const;
const TYPE_WEIGHTS = [1, 2, 4];
const TYPE_CUMULATIVE = [0.8, 0.95, 1];
/** 2024-01-01T00:00:00Z, so generated data is stable across runs and years. */
const EPOCH_SECONDS = 1704067200;
const YEAR_SECONDS = 365 * 24 * 3600;

export interface SyntheticInteractions {
  users: number;
  items: number;
  /** Parallel arrays, one entry per interaction, grouped by user. */
  user: Int32Array;
  item: Int32Array;
  weight: Float32Array;
  /** Index into INTERACTION_TYPES. */
  type: Uint8Array;
  occurredAt: Int32Array; // unix seconds
  /** Ground truth, for tests: each user's primary and secondary cluster (-1 for bots). */
  primaryCluster: Int32Array;
  secondaryCluster: Int32Array;
  /** Indexes of the injected bot users (the last ones). */
  botUsers: Int32Array;
  /** Ground truth, for maps and tests: the taste cluster each item is closest to (its latent vector's best centroid). */
  itemCluster: Int32Array;
  /**
   * The latent structure the items were drawn from: row c (of `clusters`) is the probability of
   * each item in taste cluster c (softmax of popularity plus affinity to the cluster's centroid).
   * A user drew `primaryShare` of their items from their primary cluster's row, the rest from the
   * secondary's: `preferenceOf` gives that hidden preference for any item.
   */
  clusterItemProbability: Float64Array;
  clusters: number;
  primaryShare: number;
}

export const syntheticUserId = (u: number): string => `u${u}`;
export const syntheticItemId = (i: number): string => `i${i}`;

export function generateSynthetic(opts: SyntheticOptions): SyntheticInteractions {
  const { users, items, seed } = opts;
  const perUser = opts.perUser ?? 40;
  const minPerUser = Math.min(opts.minPerUser ?? 5, items);
  const factors = opts.factors ?? 16;
  const clusters = opts.clusters ?? 24;
  const alpha = opts.popularityExponent ?? 0.8;
  const beta = opts.affinity ?? 3;
  const primaryShare = opts.primaryShare ?? 0.75;
  if (users < 1 || items < 2) throw new RangeError('need at least 1 user and 2 items');
  const rng = createRng(seed);

  const { tables, itemCluster, probability } = clusterItemTables(rng, items, factors, clusters, alpha, beta);
  const counts = userCounts(rng, users, items, perUser, minPerUser);
  const bots = Math.round((opts.bots?.share ?? 0) * users);
  const perBot = Math.min(items, opts.bots?.perBot ?? perUser);
  const total = counts.reduce((a, b) => a + b, 0) + bots * perBot;

  const out: SyntheticInteractions = {
    users: users + bots,
    items,
    user: new Int32Array(total),
    item: new Int32Array(total),
    weight: new Float32Array(total),
    type: new Uint8Array(total),
    occurredAt: new Int32Array(total),
    primaryCluster: new Int32Array(users + bots).fill(-1),
    secondaryCluster: new Int32Array(users + bots).fill(-1),
    botUsers: Int32Array.from({ length: bots }, (_, b) => users + b),
    itemCluster,
    clusterItemProbability: probability,
    clusters,
    primaryShare,
  };
  const seen = new Set<number>();
  let k = 0;
  for (let u = 0; u < users; u++) {
    const primary = rng.int(clusters);
    const secondary = (primary + 1 + rng.int(clusters - 1)) % clusters;
    out.primaryCluster[u] = primary;
    out.secondaryCluster[u] = secondary;
    seen.clear();
    while (seen.size < counts[u]) {
      const table = rng.next() < primaryShare ? tables[primary] : tables[secondary];
      const i = table.sample(rng);
      if (seen.has(i)) continue;
      seen.add(i);
      const t = pickType(rng.next());
      out.user[k] = u;
      out.item[k] = i;
      out.type[k] = t;
      out.weight[k] = TYPE_WEIGHTS[t];
      out.occurredAt[k] = EPOCH_SECONDS + rng.int(YEAR_SECONDS);
      k++;
    }
  }
  const target = rng.int(items); // what shilling bots push
  for (let u = users; u < users + bots; u++) {
    seen.clear();
    if (opts.bots?.kind === 'shilling') seen.add(target);
    while (seen.size < perBot) seen.add(rng.int(items));
    for (const i of seen) putView(out, k++, u, i, rng);
  }
  return out;
}

/**
 * The same interactions plus one for each item no draw reached, by a random real user, so a model
 * trained on them holds the whole catalogue (it knows only items someone interacted with: with
 * 20M draws from a power law over 1M items, about 16% get none). The added rows come last (not
 * grouped by user) and are views; the latent structure is the generator's for every other row.
 */
export function withEveryItem(data: SyntheticInteractions, seed: number): SyntheticInteractions {
  const drawn = new Uint8Array(data.items);
  for (let k = 0; k < data.item.length; k++) drawn[data.item[k]] = 1;
  const missing = drawn.reduce((n, d) => n + (d ? 0 : 1), 0);
  if (missing === 0) return data;
  const realUsers = data.users - data.botUsers.length;
  const rng = createRng(seed);
  const total = data.item.length + missing;
  const grown = <T extends Int32Array | Float32Array | Uint8Array>(from: T, make: (n: number) => T): T => {
    const out = make(total);
    out.set(from);
    return out;
  };
  const out: SyntheticInteractions = {
    ...data,
    user: grown(data.user, (n) => new Int32Array(n)),
    item: grown(data.item, (n) => new Int32Array(n)),
    weight: grown(data.weight, (n) => new Float32Array(n)),
    type: grown(data.type, (n) => new Uint8Array(n)),
    occurredAt: grown(data.occurredAt, (n) => new Int32Array(n)),
  };
  let k = data.item.length;
  for (let i = 0; i < data.items; i++) {
    if (!drawn[i]) putView(out, k++, rng.int(realUsers), i, rng);
  }
  return out;
}

/** Row k: a view of item i by user u at a random time of the generator's year. */
function putView(out: SyntheticInteractions, k: number, u: number, i: number, rng: Rng): void {
  out.user[k] = u;
  out.item[k] = i;
  out.type[k] = 0;
  out.weight[k] = TYPE_WEIGHTS[0];
  out.occurredAt[k] = EPOCH_SECONDS + rng.int(YEAR_SECONDS);
}

function pickType(x: number): number {
  return TYPE_CUMULATIVE.findIndex((c) => x < c);
}

function userCounts(rng: Rng, users: number, items: number, mean: number, min: number): Int32Array {
  // lognormal with sigma 0.8: a long tail of heavy users, as in real logs
  const sigma = 0.8;
  const mu = Math.log(Math.max(mean - min, 1)) - (sigma * sigma) / 2;
  const cap = Math.max(min, Math.floor(items / 2));
  const counts = new Int32Array(users);
  for (let u = 0; u < users; u++) {
    counts[u] = Math.min(cap, min + Math.round(Math.exp(mu + sigma * rng.normal())));
  }
  return counts;
}

function clusterItemTables(
  rng: Rng,
  items: number,
  factors: number,
  clusters: number,
  alpha: number,
  beta: number,
): { tables: AliasTable[]; itemCluster: Int32Array; probability: Float64Array } {
  const itemVec = new Float64Array(items * factors);
  for (let j = 0; j < itemVec.length; j++) itemVec[j] = rng.normal();
  // popularity by a random rank, so item ids say nothing about popularity
  const logPop = new Float64Array(items);
  const rank = Int32Array.from({ length: items }, (_, i) => i);
  for (let i = items - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [rank[i], rank[j]] = [rank[j], rank[i]];
  }
  for (let j = 0; j < items; j++) logPop[j] = -alpha * Math.log(rank[j] + 1);

  const scale = beta / Math.sqrt(factors);
  const tables: AliasTable[] = [];
  const logits = new Float64Array(items);
  const itemCluster = new Int32Array(items);
  const bestDot = new Float64Array(items).fill(-Infinity);
  const probability = new Float64Array(clusters * items);
  for (let c = 0; c < clusters; c++) {
    const centroid = Array.from({ length: factors }, () => rng.normal());
    let max = -Infinity;
    for (let j = 0; j < items; j++) {
      let dot = 0;
      for (let f = 0; f < factors; f++) dot += centroid[f] * itemVec[j * factors + f];
      if (dot > bestDot[j]) [bestDot[j], itemCluster[j]] = [dot, c];
      logits[j] = logPop[j] + scale * dot;
      if (logits[j] > max) max = logits[j];
    }
    const weights = new Float64Array(items);
    for (let j = 0; j < items; j++) weights[j] = Math.exp(logits[j] - max);
    tables.push(new AliasTable(weights));
    const sum = weights.reduce((a, b) => a + b, 0);
    for (let j = 0; j < items; j++) probability[c * items + j] = weights[j] / sum;
  }
  return { tables, itemCluster, probability };
}

/** Walker's alias method: O(1) draws from a fixed discrete distribution. */
export class AliasTable {
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: Float64Array) {
    const n = weights.length;
    const sum = weights.reduce((a, b) => a + b, 0);
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = Float64Array.from(weights, (w) => (w * n) / sum);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.prob[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of [...small, ...large]) this.prob[i] = 1;
  }

  sample(rng: Rng): number {
    const i = rng.int(this.prob.length);
    return rng.next() < this.prob[i] ? i : this.alias[i];
  }
}

/**
 * User u's hidden preference for item i: the probability the generator gave i in one of u's draws
 * (their clusters' rows, mixed by primaryShare). Items sum to 1 for a user; a bot has none (0).
 */
export function preferenceOf(data: SyntheticInteractions, u: number, i: number): number {
  const primary = data.primaryCluster[u];
  if (primary < 0) return 0;
  const row = (c: number) => data.clusterItemProbability[c * data.items + i];
  return data.primaryShare * row(primary) + (1 - data.primaryShare) * row(data.secondaryCluster[u]);
}

/** Catalogue attributes for a generated item: its ground-truth cluster, e.g. `{ cluster: "c7" }`, to colour maps by. */
export const syntheticItemAttributes = (data: SyntheticInteractions, i: number): { cluster: string } => ({
  cluster: `c${data.itemCluster[i]}`,
});
