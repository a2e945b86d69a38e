import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Index, MetricKind, ScalarKind } from 'usearch';
import type { DaeModel } from '../dae.model';

export interface ItemIndexOptions {
  /** HNSW M: links per node. */
  connectivity?: number;
  /** ef_construction: candidates weighed per insertion. */
  expansionAdd?: number;
  /** ef at query time (a search for k looks at max(k, ef) candidates). */
  expansionSearch?: number;
  /** Build threads (default: cores). */
  threads?: number;
  /** How the index stores a vector; exact rescoring follows, so it only needs the right candidates. */
  quantization?: 'f32' | 'f16' | 'i8';
  /**
   * How the score index searches the maximum inner product: 'ip' directly, or 'cos' over vectors
   * made of equal norm by an extra coordinate sqrt(M² − |x|²) (the query's is 0).
   */
  scoreMetric?: 'ip' | 'cos';
}

/** What view() needs to open the files save() wrote. */
interface IndexMeta {
  format: 1;
  items: number;
  /** The output layer's width: the hidden vector's length. */
  width: number;
  scoreMetric: 'ip' | 'cos';
  quantization: 'f32' | 'f16' | 'i8';
  connectivity: number;
  expansionSearch: number;
}

const META_FILE = 'item-index.json';
const SCORES_FILE = 'scores.usearch';
const COSINES_FILE = 'cosines.usearch';

const DEFAULTS = {
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 64,
  quantization: 'i8',
  scoreMetric: 'cos',
} as const;

/** Items added per native call while building: progress is reported, and the event loop runs, between them. */
const BUILD_STEP = 8_192;

/**
 * Approximate nearest items of a model's output layer, for catalogues too big to score whole per
 * request: a row's scores are hidden·W_i + b_i (the decoder's last layer is linear), so its best
 * items are a maximum inner product search over [W_i, b_i] with [h, 1]; similar items are a
 * cosine search over W_i. Both are HNSW graphs (usearch). They only propose candidates: DaeModel
 * scores those exactly, so what it returns are the model's scores, and an item the graph misses
 * is what approximation costs (recall, measured by bench/ann.ts).
 */
export class ItemIndex {
  private constructor(
    private readonly meta: IndexMeta,
    private readonly scoreIndex: Index,
    private readonly cosineIndex: Index,
  ) {}

  get items(): number {
    return this.meta.items;
  }

  /** The length of the hidden rows searchScores takes. */
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
      quantization: options.quantization ?? DEFAULTS.quantization,
      connectivity: options.connectivity ?? DEFAULTS.connectivity,
      expansionSearch: options.expansionSearch ?? DEFAULTS.expansionSearch,
    };
    const expansionAdd = options.expansionAdd ?? DEFAULTS.expansionAdd;
    const threads = options.threads ?? availableParallelism();
    const [scoreIndex, cosineIndex] = [newIndex(meta, 'scores', expansionAdd), newIndex(meta, 'cosines', expansionAdd)];
    // the largest norm of [W_i, b_i], for the equal-norm transform
    let maxNorm = 0;
    if (meta.scoreMetric === 'cos')
      for (let i = 0; i < items; i++) maxNorm = Math.max(maxNorm, Math.sqrt(squaredNorm(w, b, width, items, i)));
    const scoreDim = scoreDims(meta);
    for (let i0 = 0; i0 < items; i0 += BUILD_STEP) {
      const i1 = Math.min(items, i0 + BUILD_STEP);
      const n = i1 - i0;
      const keys = new BigUint64Array(n);
      const scoreRows = new Float32Array(n * scoreDim);
      const cosineRows = new Float32Array(n * width);
      for (let r = 0; r < n; r++) keys[r] = BigInt(i0 + r);
      for (let h = 0; h < width; h++) {
        const row = h * items;
        for (let r = 0; r < n; r++) {
          const x = w[row + i0 + r];
          scoreRows[r * scoreDim + h] = x;
          cosineRows[r * width + h] = x;
        }
      }
      for (let r = 0; r < n; r++) {
        scoreRows[r * scoreDim + width] = b[i0 + r];
        if (meta.scoreMetric === 'cos') {
          const rest = maxNorm * maxNorm - squaredNorm(w, b, width, items, i0 + r);
          scoreRows[r * scoreDim + width + 1] = Math.sqrt(Math.max(0, rest));
        }
      }
      scoreIndex.add(keys, scoreRows, threads);
      cosineIndex.add(keys, cosineRows, threads);
      onProgress?.(i1, items);
      // a build takes minutes at a million items: let the process answer its health checks meanwhile
      await new Promise((resolve) => setImmediate(resolve));
    }
    return new ItemIndex(meta, scoreIndex, cosineIndex);
  }

  /** Writes its files into dir (created if missing); returns the file names written. */
  save(dir: string): string[] {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    this.scoreIndex.save(join(dir, SCORES_FILE));
    this.cosineIndex.save(join(dir, COSINES_FILE));
    writeFileSync(join(dir, META_FILE), JSON.stringify(this.meta));
    return [META_FILE, SCORES_FILE, COSINES_FILE];
  }

  /** Opens the files save() wrote, memory-mapped (shared by every thread and process that views them). */
  static view(dir: string, options: Pick<ItemIndexOptions, 'expansionSearch'> = {}): ItemIndex {
    const saved = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as IndexMeta;
    if (saved.format !== 1) throw new Error(`item index format ${String(saved.format)} is not known`);
    const meta = { ...saved, expansionSearch: options.expansionSearch ?? saved.expansionSearch };
    const [scoreIndex, cosineIndex] = [newIndex(meta, 'scores', 0), newIndex(meta, 'cosines', 0)];
    scoreIndex.view(join(dir, SCORES_FILE));
    cosineIndex.view(join(dir, COSINES_FILE));
    if (scoreIndex.size() !== meta.items || cosineIndex.size() !== meta.items)
      throw new Error(`item index in ${dir} holds ${scoreIndex.size()} items, its metadata says ${meta.items}`);
    return new ItemIndex(meta, scoreIndex, cosineIndex);
  }

  /**
   * The items of highest score per hidden row (rows x width, row-major), about k each, best
   * first by the index's estimate; on the calling thread.
   */
  searchScores(hidden: Float32Array, rows: number, k: number): Uint32Array[] {
    const { width } = this.meta;
    const dim = scoreDims(this.meta);
    const queries = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      queries.set(hidden.subarray(r * width, (r + 1) * width), r * dim);
      // the bias's coordinate; the equal-norm coordinate stays 0
      queries[r * dim + width] = 1;
    }
    return this.search(this.scoreIndex, queries, rows, k);
  }

  /** The items of highest cosine with each item vector (rows x width, row-major), about k each. */
  searchCosines(vectors: Float32Array, rows: number, k: number): Uint32Array[] {
    return this.search(this.cosineIndex, vectors, rows, k);
  }

  private search(index: Index, queries: Float32Array, rows: number, k: number): Uint32Array[] {
    if (rows === 0) return [];
    const want = Math.min(this.meta.items, Math.max(1, k));
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
    expansion_search: meta.expansionSearch,
    multi: false,
  });
}

/** |[W_i, b_i]|² over the width x items row-major output layer. */
function squaredNorm(w: Float32Array, b: Float32Array, width: number, items: number, i: number): number {
  let sum = b[i] * b[i];
  for (let h = 0; h < width; h++) sum += w[h * items + i] ** 2;
  return sum;
}
