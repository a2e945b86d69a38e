import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Index, MetricKind, ScalarKind } from 'usearch';
import type { DaeModel } from '../dae.model';
import { ItemClusters } from './item-clusters';

export interface ItemIndexOptions {
  /** HNSW M: links per node. */
  connectivity?: number;
  /** ef_construction: candidates weighed per insertion. */
  expansionAdd?: number;
  /** ef at query time for similar items (a search for k looks at max(k, ef) candidates). */
  expansionSearch?: number;
  /** ef at query time for scores, per norm range (default SCORE_EXPANSION). */
  scoreExpansion?: number;
  /** Build threads (default: cores). */
  threads?: number;
  /** How the index stores a vector; exact rescoring follows, so it only needs the right candidates. */
  quantization?: 'f32' | 'f16' | 'i8';
  /**
   * How the score indexes search the maximum inner product: 'ip' directly, or 'cos' over vectors
   * made of equal norm by an extra coordinate sqrt(M² − |x|²) (the query's is 0).
   */
  scoreMetric?: 'ip' | 'cos';
  /** Score indexes, each over a range of item norms (default: one per NORM_RANGE_ITEMS items, up to MAX_NORM_RANGES). */
  normRanges?: number;
  /** Share of a row's wanted candidates each norm range is asked for (default: see perRange). */
  rangeShare?: number;
  /**
   * How candidates are found: HNSW graphs (score graphs over norm ranges, one cosine graph), or
   * clusters of items (k-means), the best-matching `probes` of which are scored whole (ItemClusters).
   */
  search?: 'graphs' | 'clusters';
  /** Clusters of each kind for search 'clusters' (default: ItemClusters'). */
  clusters?: number;
  /** Clusters a row's items are scored from (default: PROBE_SHARE of them). */
  probes?: number;
  /** Cosine clusters a similar-items row's items are compared with (default: SIMILAR_PROBE_SHARE of them). */
  similarProbes?: number;
}

/** What view() needs to open the files save() wrote. */
interface IndexMeta {
  format: 1;
  items: number;
  /** The output layer's width: the hidden vector's length. */
  width: number;
  scoreMetric: 'ip' | 'cos';
  /** Score indexes, items by ascending norm. */
  normRanges: number;
  quantization: 'f32' | 'f16' | 'i8';
  connectivity: number;
  expansionSearch: number;
  /** Each range's largest |[W_i, b_i]|, ascending; absent in indexes built before pruning (never pruned). */
  rangeNorms?: number[];
  /** 'clusters': score-clusters.bin and cosine-clusters.bin, no graphs (normRanges 0); absent: graphs. */
  search?: 'graphs' | 'clusters';
  /** View options, not saved. */
  rangeShare?: number;
  scoreExpansion?: number;
  probes?: number;
  similarProbes?: number;
}

const META_FILE = 'item-index.json';
const scoresFile = (range: number) => `scores-${range}.usearch`;
const COSINES_FILE = 'cosines.usearch';
const clustersFile = (kind: 'scores' | 'cosines') => `${kind === 'scores' ? 'score' : 'cosine'}-clusters.bin`;

/** Share of the clusters a row probes by default (bench:ann --probes). */
const PROBE_SHARE = 1 / 32;
/**
 * Share of the cosine clusters a similar-items row probes by default: half the score share. A
 * similar row's cost is streaming its clusters' int16 weights; at 1M items 16 clusters kept the
 * fixture's recall@100 at 1.000 in 1.60 against 2.80 ms a row for 32 (`bench:ann --probes 16`),
 * and the 1M bench's trained model's at 0.983 against 0.995 (docs/scaling.md).
 */
const SIMILAR_PROBE_SHARE = 1 / 64;
/** Fewest clusters a row probes by default: small catalogues have few clusters, each of few items. */
const MIN_PROBES = 16;

/** The view's count if it set one, else `share` of the clusters (at least MIN_PROBES); never more than there are. */
const probesOf = (clusters: number, chosen: number | undefined, share: number): number =>
  Math.min(clusters, chosen ?? Math.max(MIN_PROBES, Math.ceil(clusters * share)));

const DEFAULTS = {
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 64,
  quantization: 'i8',
  scoreMetric: 'cos',
} as const;

/**
 * Items per norm range by default. The equal-norm transform pads a short vector with a long extra
 * coordinate: where norms vary (popular items' are longer), short vectors all look alike and the
 * graph walk loses its way. Within a range of similar norms the padding is small. On a clustered
 * 100,000 x 256 layer, 8k candidates from one index found 84% of the top 100; 4k from each of 4
 * ranges 97%, 4k from each of 8 99% (and built in a fraction of the time: smaller graphs); at
 * 200,000 items, 2k from each of 8 ranges of 25,000 found 84%.
 */
const NORM_RANGE_ITEMS = 12_500;

/**
 * ef of a norm range's search: the walk weighs this many candidates however few it returns. At
 * 200,000 x 256 (bench:ann, 16 ranges), each range's best 100 of a walk over 200 found 96.6% of
 * the top 100, as its best 200 did, for half the candidates to score; a walk over 150 found 91%.
 */
const SCORE_EXPANSION = 200;
const MAX_NORM_RANGES = 32;

/** Items added per native call while building: progress is reported, and the event loop runs, between them. */
const BUILD_STEP = 8_192;

/**
 * Approximate nearest items of a model's output layer, for catalogues too big to score whole per
 * request: a row's scores are hidden·W_i + b_i (the decoder's last layer is linear), so its best
 * items are a maximum inner product search over [W_i, b_i] with [h, 1]; similar items are a
 * cosine search over W_i. Both are clusters of items by default (ItemClusters: a row probes the
 * clusters its query scores best with), or HNSW graphs (usearch; search 'graphs', slower to build
 * and lower in recall at 1M items: docs/scaling.md). They only propose candidates: DaeModel scores
 * those exactly, so what it returns are the model's scores, and an item the index misses is what
 * approximation costs (recall, measured by bench/ann.ts).
 */
export class ItemIndex {
  private constructor(
    private readonly meta: IndexMeta,
    private readonly scoreIndexes: Index[],
    private readonly cosineIndex: Index | null,
    /** What candidates come from when search is 'clusters' rather than graphs. */
    readonly clusters: { scores: ItemClusters; cosines: ItemClusters } | null = null,
  ) {}

  /** Clusters a row's candidates come from (search 'clusters'). */
  get probes(): number {
    return probesOf(this.clusters?.scores.clusters ?? 0, this.meta.probes, PROBE_SHARE);
  }

  /** Cosine clusters a similar-items row's candidates come from (search 'clusters'). */
  get similarProbes(): number {
    return probesOf(this.clusters?.cosines.clusters ?? 0, this.meta.similarProbes, SIMILAR_PROBE_SHARE);
  }

  get items(): number {
    return this.meta.items;
  }

  /** The length of the hidden rows scoreQueries takes. */
  get width(): number {
    return this.meta.width;
  }

  /** Builds the index(es) of a model's items: scores (max inner product over the output layer, bias included) and cosines (similar items). */
  static async build(
    model: DaeModel,
    options: ItemIndexOptions = {},
    onProgress?: (done: number, of: number) => void,
  ): Promise<ItemIndex> {
    const { w, b, width, items } = model.outputLayerParams();
    const meta: IndexMeta = {
      format: 1,
      items,
      width,
      scoreMetric: options.scoreMetric ?? DEFAULTS.scoreMetric,
      normRanges: Math.max(
        1,
        Math.min(items, options.normRanges ?? Math.min(MAX_NORM_RANGES, Math.ceil(items / NORM_RANGE_ITEMS))),
      ),
      quantization: options.quantization ?? DEFAULTS.quantization,
      connectivity: options.connectivity ?? DEFAULTS.connectivity,
      expansionSearch: options.expansionSearch ?? DEFAULTS.expansionSearch,
      rangeShare: options.rangeShare,
      scoreExpansion: options.scoreExpansion,
      search: options.search ?? 'clusters',
      probes: options.probes,
      similarProbes: options.similarProbes,
    };
    if (meta.search === 'clusters') {
      const layer = model.outputLayerParams();
      // progress in items' worth: each kind half of the build
      const half = (offset: number) => (done: number, of: number) =>
        onProgress?.(Math.round(offset + (done / of) * items), 2 * items);
      const clusters = {
        scores: await ItemClusters.build('scores', layer, { clusters: options.clusters }, half(0)),
        cosines: await ItemClusters.build('cosines', layer, { clusters: options.clusters }, half(items)),
      };
      return new ItemIndex({ ...meta, normRanges: 0 }, [], null, clusters);
    }
    const expansionAdd = options.expansionAdd ?? DEFAULTS.expansionAdd;
    const threads = options.threads ?? availableParallelism();
    const norms = Float64Array.from({ length: items }, (_, i) => squaredNorm(w, b, width, items, i));
    const byNorm = Int32Array.from({ length: items }, (_, i) => i).sort((x, y) => norms[x] - norms[y]);
    const [done, of] = [{ n: 0 }, (meta.normRanges > 0 ? 2 : 1) * items];
    const scoreIndexes: Index[] = [];
    meta.rangeNorms = [];
    for (let range = 0; range < meta.normRanges; range++) {
      const members = byNorm.subarray(
        Math.floor((range * items) / meta.normRanges),
        Math.floor(((range + 1) * items) / meta.normRanges),
      );
      const largest = members.length > 0 ? norms[members[members.length - 1]] : 0;
      meta.rangeNorms.push(Math.sqrt(largest));
      const index = newIndex(meta, 'scores', expansionAdd);
      const dim = scoreDims(meta);
      await addInSteps(
        index,
        members,
        dim,
        threads,
        (i, row) => {
          for (let h = 0; h < width; h++) row[h] = w[h * items + i];
          row[width] = b[i];
          if (meta.scoreMetric === 'cos') row[width + 1] = Math.sqrt(Math.max(0, largest - norms[i]));
        },
        (n) => onProgress?.((done.n += n), of),
      );
      scoreIndexes.push(index);
    }
    const cosineIndex = newIndex(meta, 'cosines', expansionAdd);
    await addInSteps(
      cosineIndex,
      Int32Array.from({ length: items }, (_, i) => i),
      width,
      threads,
      (i, row) => {
        for (let h = 0; h < width; h++) row[h] = w[h * items + i];
      },
      (n) => onProgress?.((done.n += n), of),
    );
    return new ItemIndex(meta, scoreIndexes, cosineIndex);
  }

  /** Writes its files into dir (created if missing); returns the file names written. */
  save(dir: string): string[] {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    const scores = this.scoreIndexes.map(
      (index, range) => (index.save(join(dir, scoresFile(range))), scoresFile(range)),
    );
    this.cosineIndex?.save(join(dir, COSINES_FILE));
    const clusters = this.clusters
      ? (['scores', 'cosines'] as const).map((kind) => {
          writeClusters(join(dir, clustersFile(kind)), this.clusters![kind]);
          return clustersFile(kind);
        })
      : [COSINES_FILE];
    // last: a directory with its metadata is complete
    const {
      rangeShare: _share,
      scoreExpansion: _expansion,
      probes: _probes,
      similarProbes: _similarProbes,
      ...meta
    } = this.meta;
    writeFileSync(join(dir, META_FILE), JSON.stringify(meta));
    return [...scores, ...clusters, META_FILE];
  }

  /** Opens the files save() wrote, memory-mapped (shared by every thread and process that views them). */
  static view(
    dir: string,
    options: Pick<
      ItemIndexOptions,
      'expansionSearch' | 'rangeShare' | 'scoreExpansion' | 'probes' | 'similarProbes'
    > = {},
  ): ItemIndex {
    const saved = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as IndexMeta;
    if (saved.format !== 1) throw new Error(`item index format ${String(saved.format)} is not known`);
    const meta = {
      ...saved,
      expansionSearch: options.expansionSearch ?? saved.expansionSearch,
      rangeShare: options.rangeShare,
      scoreExpansion: options.scoreExpansion,
      probes: options.probes,
      similarProbes: options.similarProbes,
    };
    const scoreIndexes = Array.from({ length: meta.normRanges }, (_, range) => {
      const index = newIndex(meta, 'scores', 0);
      index.view(join(dir, scoresFile(range)));
      return index;
    });
    if (meta.search === 'clusters') {
      const clusters = {
        scores: readClusters(join(dir, clustersFile('scores')), 'scores', meta.width),
        cosines: readClusters(join(dir, clustersFile('cosines')), 'cosines', meta.width),
      };
      if (clusters.scores.items !== meta.items || clusters.cosines.items !== meta.items)
        throw new Error(`item clusters in ${dir} hold other than the ${meta.items} items their metadata says`);
      return new ItemIndex(meta, [], null, clusters);
    }
    const cosineIndex = newIndex(meta, 'cosines', 0);
    cosineIndex.view(join(dir, COSINES_FILE));
    const scored = scoreIndexes.reduce((n, index) => n + index.size(), 0);
    if (scored !== meta.items || cosineIndex.size() !== meta.items)
      throw new Error(`item index in ${dir} holds ${scored} items, its metadata says ${meta.items}`);
    return new ItemIndex(meta, scoreIndexes, cosineIndex);
  }

  /** Score indexes, over ranges of item norms, ascending. */
  get ranges(): number {
    return this.scoreIndexes.length;
  }

  /**
   * The largest |[W_i, b_i]| of a norm range: no item of it scores above |[h, 1]| times this
   * (Cauchy-Schwarz). Null for an index saved without it.
   */
  rangeNorm(range: number): number | null {
    return this.meta.rangeNorms?.[range] ?? null;
  }

  /**
   * How many of a row's `want` candidates to ask each norm range for: all of them from a single
   * range, `want` x the rangeShare option if given, else want x 2/ranges, never under want/8 (at
   * 200,000 and 400,000 items each range's best 100 of 8 x 100 asked, walking SCORE_EXPANSION
   * candidates, found as many of the top 100 as its best 200: bench:ann).
   */
  perRange(want: number): number {
    const ranges = this.scoreIndexes.length;
    if (ranges === 1) return want;
    const share = this.meta.rangeShare ?? Math.max(1 / 8, Math.min(1, 2 / ranges));
    return Math.max(1, Math.ceil(want * share));
  }

  /** Hidden rows (rows x width, row-major) as score queries: [h, 1], and 0 for the equal-norm coordinate. */
  scoreQueries(hidden: Float32Array, rows: number): Float32Array {
    const { width } = this.meta;
    const dim = scoreDims(this.meta);
    const queries = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      queries.set(hidden.subarray(r * width, (r + 1) * width), r * dim);
      queries[r * dim + width] = 1;
    }
    return queries;
  }

  /** The listed rows of scoreQueries' block, copied into one block (one search call for them all). */
  pickQueries(queries: Float32Array, rows: readonly number[]): Float32Array {
    const dim = scoreDims(this.meta);
    const out = new Float32Array(rows.length * dim);
    rows.forEach((r, n) => out.set(queries.subarray(r * dim, (r + 1) * dim), n * dim));
    return out;
  }

  /** Each query's best k items of one norm range by the index (queries from scoreQueries), in one call; on the calling thread. */
  searchRange(range: number, queries: Float32Array, rows: number, k: number): Uint32Array[] {
    return this.search(this.scoreIndexes[range], queries, rows, k);
  }

  /** The items of highest cosine with each item vector (rows x width, row-major), about k each. */
  searchCosines(vectors: Float32Array, rows: number, k: number): Uint32Array[] {
    if (!this.cosineIndex) throw new Error('an index of item clusters has no cosine graph');
    return this.search(this.cosineIndex, vectors, rows, k);
  }

  private search(index: Index, queries: Float32Array, rows: number, k: number): Uint32Array[] {
    if (rows === 0) return [];
    const want = Math.min(index.size(), Math.max(1, k));
    // one thread: a scoring thread is a core already
    const found = index.search(queries, want, 1) as unknown as {
      keys: BigUint64Array;
      counts?: BigUint64Array;
    };
    if (!found.counts) return [Uint32Array.from(found.keys, Number)];
    return Array.from({ length: rows }, (_, r) =>
      Uint32Array.from(found.keys.subarray(r * want, r * want + Number(found.counts![r])), Number),
    );
  }
}

/** Clusters as one file: clusters and centroid length (int32), then centroids, offsets and members. */
function writeClusters(file: string, clusters: ItemClusters): void {
  const head = Int32Array.of(clusters.clusters, clusters.centroids.length / clusters.clusters);
  const parts = [head, clusters.centroids, clusters.offsets, clusters.members];
  writeFileSync(file, Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
}

function readClusters(file: string, kind: 'scores' | 'cosines', width: number): ItemClusters {
  const bytes = readFileSync(file);
  // a copy aligned for typed arrays (Buffer's pool may not be)
  const data = new Uint8Array(bytes.byteLength);
  data.set(bytes);
  const [count, dim] = new Int32Array(data.buffer, 0, 2);
  let at = 8;
  const take = <T>(make: (buffer: ArrayBuffer, offset: number, length: number) => T, length: number): T => {
    const out = make(data.buffer, at, length);
    at += length * 4;
    return out;
  };
  const centroids = take((b, o, n) => new Float32Array(b, o, n), count * dim);
  const offsets = take((b, o, n) => new Int32Array(b, o, n), count + 1);
  const members = take((b, o, n) => new Int32Array(b, o, n), offsets[count]);
  if (at !== data.byteLength || dim !== width + (kind === 'scores' ? 1 : 0))
    throw new Error(`${file} is not a file of item clusters of width ${width}`);
  return new ItemClusters(kind, width, centroids, offsets, members);
}

/** Adds the listed items to an index in steps, each item's vector written by `fill`. */
async function addInSteps(
  index: Index,
  members: Int32Array,
  dim: number,
  threads: number,
  fill: (item: number, row: Float32Array) => void,
  onStep: (added: number) => void,
): Promise<void> {
  for (let n0 = 0; n0 < members.length; n0 += BUILD_STEP) {
    const n1 = Math.min(members.length, n0 + BUILD_STEP);
    const keys = new BigUint64Array(n1 - n0);
    const rows = new Float32Array((n1 - n0) * dim);
    for (let r = 0; r < n1 - n0; r++) {
      keys[r] = BigInt(members[n0 + r]);
      fill(members[n0 + r], rows.subarray(r * dim, (r + 1) * dim));
    }
    index.add(keys, rows, threads);
    onStep(n1 - n0);
    // a build takes minutes at a million items: let the process answer its health checks meanwhile
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function scoreDims(meta: IndexMeta): number {
  return meta.width + (meta.scoreMetric === 'cos' ? 2 : 1);
}

function newIndex(meta: IndexMeta, kind: 'scores' | 'cosines', expansionAdd: number): Index {
  return new Index({
    dimensions: kind === 'scores' ? scoreDims(meta) : meta.width,
    metric: kind === 'scores' && meta.scoreMetric === 'ip' ? MetricKind.IP : MetricKind.Cos,
    quantization: meta.quantization as ScalarKind,
    connectivity: meta.connectivity,
    expansion_add: expansionAdd,
    expansion_search: kind === 'scores' ? (meta.scoreExpansion ?? SCORE_EXPANSION) : meta.expansionSearch,
    multi: false,
  });
}

/** |[W_i, b_i]|² over the width x items row-major output layer. */
function squaredNorm(w: Float32Array, b: Float32Array, width: number, items: number, i: number): number {
  let sum = b[i] * b[i];
  for (let h = 0; h < width; h++) sum += w[h * items + i] ** 2;
  return sum;
}
