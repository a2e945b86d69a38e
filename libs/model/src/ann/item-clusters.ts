import * as tf from '@tensorflow/tfjs';
import { createRng } from '@app/random';
import type { Ranking } from '../score';

export interface ItemClustersOptions {
  /** Clusters (default: the square root of the items, so a cluster holds about as many items as there are clusters). */
  clusters?: number;
  /** Items k-means learns the centroids from (default: SAMPLE_PER_CLUSTER per cluster). */
  sample?: number;
  /** k-means rounds over the sample. */
  iterations?: number;
  seed?: number;
}

/** Items per cluster k-means learns from: enough for a stable mean, few enough that a round is seconds at 1M items. */
const SAMPLE_PER_CLUSTER = 48;
const ITERATIONS = 12;
/** Rows per product when items are assigned (a block of rows x clusters floats). */
const ASSIGN_ROWS = 16_384;

/**
 * A partition of a model's items by direction, for nearest item search by probing: a row's best
 * items sit in the clusters whose centroids score best with it, and scoring those clusters' items
 * finds them (an inverted file, IVF). For 'scores' (maximum inner product with [h, 1]), the
 * items' [W_i, b_i] are made of equal norm M by one more coordinate sqrt(M² − |[W_i, b_i]|²), so
 * an inner product with [h, 1, 0] ranks as a cosine does and spherical k-means fits them; for
 * 'cosines' (similar items), the directions W_i / |W_i|. One partition does not serve both: on a
 * trained model the score clusters found 74% of an item's 20 nearest (test/ann-index.e2e-spec.ts),
 * as they group by norm as well as direction.
 */
export class ItemClusters {
  constructor(
    readonly kind: 'scores' | 'cosines',
    /** The output layer's width: a query's length. */
    readonly width: number,
    /** clusters x (width + 1 for scores, width for cosines): what a query is compared with. */
    readonly centroids: Float32Array,
    /** Cluster c holds members[offsets[c] .. offsets[c + 1]), ascending. */
    readonly offsets: Int32Array,
    readonly members: Int32Array,
  ) {}

  get clusters(): number {
    return this.offsets.length - 1;
  }

  get items(): number {
    return this.members.length;
  }

  /** Spherical k-means over the output layer's items (w: width x items, row-major; b: items). */
  static async build(
    kind: 'scores' | 'cosines',
    layer: { w: Float32Array; b: Float32Array; width: number; items: number },
    options: ItemClustersOptions = {},
    /** Steps done of all: a k-means round or a block of items assigned. */
    onProgress?: (done: number, of: number) => void,
  ): Promise<ItemClusters> {
    const { w, b, width, items } = layer;
    const clusters = Math.max(1, Math.min(items, options.clusters ?? Math.ceil(Math.sqrt(items))));
    const rng = createRng(options.seed ?? 1);
    const dim = kind === 'scores' ? width + 2 : width;
    // the unit vector k-means sees for item i
    const norms = Float64Array.from({ length: items }, (_, i) => {
      let sq = kind === 'scores' ? b[i] * b[i] : 0;
      for (let h = 0; h < width; h++) sq += w[h * items + i] ** 2;
      return Math.sqrt(sq);
    });
    const largest = norms.reduce((m, n) => Math.max(m, n), 0) || 1;
    const vectorsOf = (ids: ArrayLike<number>, from: number, to: number) => {
      const out = new Float32Array((to - from) * dim);
      for (let n = from; n < to; n++) {
        const i = ids[n];
        const o = (n - from) * dim;
        if (kind === 'scores') {
          for (let h = 0; h < width; h++) out[o + h] = w[h * items + i] / largest;
          out[o + width] = b[i] / largest;
          out[o + width + 1] = Math.sqrt(Math.max(0, 1 - (norms[i] / largest) ** 2));
        } else if (norms[i] > 0) {
          for (let h = 0; h < width; h++) out[o + h] = w[h * items + i] / norms[i];
        }
      }
      return out;
    };
    const all = Int32Array.from({ length: items }, (_, i) => i);
    const sampleSize = Math.min(items, Math.max(clusters, options.sample ?? SAMPLE_PER_CLUSTER * clusters));
    // a partial Fisher-Yates shuffle: the first sampleSize are an even sample
    const shuffled = all.slice();
    for (let n = 0; n < sampleSize; n++) {
      const m = n + Math.floor(rng.next() * (items - n));
      [shuffled[n], shuffled[m]] = [shuffled[m], shuffled[n]];
    }
    const sample = vectorsOf(shuffled, 0, sampleSize);
    let centroids: Float32Array = sample.slice(0, clusters * dim);
    const rounds = options.iterations ?? ITERATIONS;
    const steps = { done: 0, of: rounds + Math.ceil(items / ASSIGN_ROWS) };
    // a step is a second or so at 1M items: the process answers its health checks between steps
    const step = async () => {
      onProgress?.(++steps.done, steps.of);
      await new Promise((resolve) => setImmediate(resolve));
    };
    for (let round = 0; round < rounds; round++) {
      const assigned = assign(sample, sampleSize, centroids, clusters, dim);
      centroids = means(sample, assigned, clusters, dim, (c, into) => {
        // an empty cluster restarts at a random sampled item
        const n = Math.floor(rng.next() * sampleSize);
        into.set(sample.subarray(n * dim, (n + 1) * dim), c * dim);
      });
      await step();
    }
    const of = new Int32Array(items);
    for (let from = 0; from < items; from += ASSIGN_ROWS) {
      const to = Math.min(items, from + ASSIGN_ROWS);
      of.set(assign(vectorsOf(all, from, to), to - from, centroids, clusters, dim), from);
      await step();
    }
    // counting sort: members by cluster, ascending within one
    const offsets = new Int32Array(clusters + 1);
    for (let i = 0; i < items; i++) offsets[of[i] + 1]++;
    for (let c = 0; c < clusters; c++) offsets[c + 1] += offsets[c];
    const members = new Int32Array(items);
    const next = offsets.slice(0, clusters);
    for (let i = 0; i < items; i++) members[next[of[i]]++] = i;
    // a query's last coordinate (the padding's) is 0: it never meets the centroids' last one
    const queryDim = kind === 'scores' ? width + 1 : width;
    const kept = new Float32Array(clusters * queryDim);
    for (let c = 0; c < clusters; c++) kept.set(centroids.subarray(c * dim, c * dim + queryDim), c * queryDim);
    return new ItemClusters(kind, width, kept, offsets, members);
  }

  /**
   * Each row's `probes` clusters, best centroid first, for rows x width queries (hidden vectors for
   * scores, item vectors for cosines). `columns`: centroidColumns() kept by the caller; without it
   * a tensor of them is made (and dropped) per call.
   */
  probe(queries: Float32Array, rows: number, probes: number, columns?: tf.Tensor2D): Int32Array[] {
    const { width, clusters } = this;
    const queryDim = this.kind === 'scores' ? width + 1 : width;
    const q = new Float32Array(rows * queryDim);
    for (let r = 0; r < rows; r++) {
      q.set(queries.subarray(r * width, (r + 1) * width), r * queryDim);
      if (this.kind === 'scores') q[r * queryDim + width] = 1;
    }
    const products = tf.tidy(() => tf.matMul(tf.tensor2d(q, [rows, queryDim]), columns ?? this.centroidColumns()));
    const values = products.dataSync() as Float32Array;
    products.dispose();
    const want = Math.min(clusters, probes);
    return Array.from({ length: rows }, (_, r) => {
      const row = values.subarray(r * clusters, (r + 1) * clusters);
      return Int32Array.from(topIndices(row, want));
    });
  }

  /**
   * The centroids column by column (queryDim x clusters) as a tensor, for probe: wasm's matMul is
   * ~9x slower with a transposed operand. A caller probing often keeps it (and disposes it): a new
   * tensor per call made the product 20-30% of a similar item's cost at 1M items (a CPU profile:
   * the kernel prepares each right operand it has not seen).
   */
  centroidColumns(): tf.Tensor2D {
    const queryDim = this.kind === 'scores' ? this.width + 1 : this.width;
    return tf.tensor2d(transpose(this.centroids, this.clusters, queryDim), [queryDim, this.clusters]);
  }

  private owner: Int32Array | null = null;
  private slots: Int32Array | null = null;

  /** The cluster item i is in. */
  clusterOf(item: number): number {
    if (!this.owner) {
      const owner = new Int32Array(this.items);
      for (let c = 0; c < this.clusters; c++)
        for (let n = this.offsets[c]; n < this.offsets[c + 1]; n++) owner[this.members[n]] = c;
      this.owner = owner;
    }
    return this.owner[item];
  }

  /** Where item i sits in members (its slot in a layer laid out cluster by cluster). */
  slotOf(item: number): number {
    if (!this.slots) {
      const slots = new Int32Array(this.items);
      for (let n = 0; n < this.items; n++) slots[this.members[n]] = n;
      this.slots = slots;
    }
    return this.slots[item];
  }

  /** The chosen clusters' slots as [from, to) pairs, in the order chosen. */
  rangesOf(chosen: ArrayLike<number>): Int32Array {
    const out = new Int32Array(2 * chosen.length);
    for (let n = 0; n < chosen.length; n++)
      [out[2 * n], out[2 * n + 1]] = [this.offsets[chosen[n]], this.offsets[chosen[n] + 1]];
    return out;
  }

  /** The items of the given clusters. */
  membersOf(chosen: ArrayLike<number>): Int32Array {
    let count = 0;
    for (let n = 0; n < chosen.length; n++) count += this.offsets[chosen[n] + 1] - this.offsets[chosen[n]];
    const out = new Int32Array(count);
    for (let n = 0, at = 0; n < chosen.length; n++) {
      const [from, to] = [this.offsets[chosen[n]], this.offsets[chosen[n] + 1]];
      out.set(this.members.subarray(from, to), at);
      at += to - from;
    }
    return out;
  }
}

/** Each vector's best centroid by inner product (vectors: n x dim, centroids: clusters x dim). */
function assign(vectors: Float32Array, n: number, centroids: Float32Array, clusters: number, dim: number): Int32Array {
  const byColumn = transpose(centroids, clusters, dim);
  const best = tf.tidy(() =>
    tf.matMul(tf.tensor2d(vectors, [n, dim]), tf.tensor2d(byColumn, [dim, clusters])).argMax(1),
  );
  const out = Int32Array.from(best.dataSync());
  best.dispose();
  return out;
}

/** A rows x cols row-major block as cols x rows. */
function transpose(block: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = block[r * cols + c];
  return out;
}

/** Each cluster's mean direction, unit length; `empty` fills a cluster nothing was assigned to. */
function means(
  vectors: Float32Array,
  assigned: Int32Array,
  clusters: number,
  dim: number,
  empty: (c: number, into: Float32Array) => void,
): Float32Array {
  const sums = new Float64Array(clusters * dim);
  const counts = new Int32Array(clusters);
  for (let n = 0; n < assigned.length; n++) {
    const c = assigned[n];
    counts[c]++;
    for (let d = 0; d < dim; d++) sums[c * dim + d] += vectors[n * dim + d];
  }
  const out = new Float32Array(clusters * dim);
  for (let c = 0; c < clusters; c++) {
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += sums[c * dim + d] ** 2;
    if (counts[c] === 0 || sq === 0) {
      empty(c, out);
      continue;
    }
    const norm = Math.sqrt(sq);
    for (let d = 0; d < dim; d++) out[c * dim + d] = sums[c * dim + d] / norm;
  }
  return out;
}

/** Indices of the `want` largest values, largest first (ties: lower index first). */
export function topIndices(values: ArrayLike<number>, want: number): number[] {
  // a min-heap of the best so far: n log want, where sorting every value is n log n
  const heap: number[] = [];
  const worse = (a: number, b: number) => values[a] < values[b] || (values[a] === values[b] && a > b);
  const down = (at: number) => {
    for (;;) {
      const [l, r] = [2 * at + 1, 2 * at + 2];
      let m = at;
      if (l < heap.length && worse(heap[l], heap[m])) m = l;
      if (r < heap.length && worse(heap[r], heap[m])) m = r;
      if (m === at) return;
      [heap[at], heap[m]] = [heap[m], heap[at]];
      at = m;
    }
  };
  for (let i = 0; i < values.length && want > 0; i++) {
    if (!(values[i] === values[i])) continue;
    if (heap.length < want) {
      heap.push(i);
      for (let at = heap.length - 1; at > 0;) {
        const parent = (at - 1) >> 1;
        if (!worse(heap[at], heap[parent])) break;
        [heap[at], heap[parent]] = [heap[parent], heap[at]];
        at = parent;
      }
    } else if (worse(heap[0], i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}

/**
 * A row's items to score exactly from its probed clusters: their members, plus `extra` (items
 * whose score the clusters cannot know, the item term's), less the row's exclusions.
 */
export function clusterCandidates(
  clusters: ItemClusters,
  chosen: ArrayLike<number>,
  ranking: Ranking,
  extra: ArrayLike<number> | null,
): Int32Array {
  const members = clusters.membersOf(chosen);
  if (ranking.exclude.length === 0 && !extra) return members;
  const excluded = new Set<number>(Array.from(ranking.exclude));
  const probed = new Set<number>(Array.from(chosen));
  const out = new Int32Array(members.length + (extra?.length ?? 0));
  let size = 0;
  for (let n = 0; n < members.length; n++) if (!excluded.has(members[n])) out[size++] = members[n];
  // an extra item in a probed cluster is among the members already
  if (extra)
    for (let n = 0; n < extra.length; n++)
      if (!excluded.has(extra[n]) && !probed.has(clusters.clusterOf(extra[n]))) out[size++] = extra[n];
  return out.subarray(0, size);
}

/**
 * Where each listed item sits in a block of the chosen clusters' members (membersOf(chosen)'s
 * order), for those in one of them; the others are left out.
 */
export function positionsIn(clusters: ItemClusters, chosen: ArrayLike<number>, items: ArrayLike<number>): number[] {
  const start = new Map<number, number>();
  for (let n = 0, at = 0; n < chosen.length; n++) {
    start.set(chosen[n], at);
    at += clusters.offsets[chosen[n] + 1] - clusters.offsets[chosen[n]];
  }
  const out: number[] = [];
  for (let n = 0; n < items.length; n++) {
    const c = clusters.clusterOf(items[n]);
    const at = start.get(c);
    if (at !== undefined) out.push(at + clusters.slotOf(items[n]) - clusters.offsets[c]);
  }
  return out;
}

/**
 * Candidates a row's exact scoring takes from a probed block at most: the quantised pass's bound
 * keeps every item within twice its margin of the k-th best, and where the probed items are close
 * to each other (an item's nearest by cosine) that was thousands, each an exact score read from a
 * scattered row of the layer (58 ms a similar-items row at 1M items, bench:ann). The best 4 x k by
 * the pass (at least 32) hold the top k but for near-ties within its rounding.
 */
export const candidateCap = (k: number): number => Math.max(32, 4 * k);
