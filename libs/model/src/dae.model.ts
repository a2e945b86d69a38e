import * as tf from '@tensorflow/tfjs';
import { activate, normalizedInput, sparseFirstLayer } from './dae-layers';
import { DaeConfig, DaeParams, embeddingLayer, layerSizes } from './dae-config';
import { CsrMatrix, sliceRows } from './interaction-matrix';
import { QUANTISED_ROWS, QuantisedBits, QuantisedOutputLayer } from './quantised-output';
import { boundedCandidates, candidatesOf, rankColumns, RankedItems, rankedItems, Ranking, rankListed } from './score';
import { ListedScores } from './listed-scores';
import { filledTensor, readInto, readTransposedInto } from './tensor-read';
import { ItemTerm } from './item-term';
import type { ItemIndex } from './ann/item-index';
import { candidatesFromIndex, MAX_INDEX_SHARE, OVER_FETCH } from './ann/index-candidates';
import { prunedCandidatesFromIndex } from './ann/pruned-candidates';
import { candidateCap, clusterCandidates, ItemClusters, positionsIn, topIndices } from './ann/item-clusters';

/** Score blocks row per user (count x items), or item-major as the output layer's product leaves them (items x count). */
export type ScoreLayout = 'users' | 'items';

/** Rows processed per tensor call at inference, so memory stays bounded for any number of users. */
export const INFERENCE_CHUNK_ROWS = 512;

/**
 * Bits per item weight of the clustered layers' first pass (rankFromClusters, similar items). A
 * probed row streams its clusters' weights from memory: at 1M items x 256, 8 bits took a similar
 * row's pass from 1.1-1.2 to 0.44 ms and the row from 1.7-2.0 to 1.2 ms, a fold-in from 0.95-1.13
 * to 0.86 ms, recall@100 against the exact ranking the same (0.989 and 0.984 on the bench's
 * trained model, docs/scaling.md): the wider bound only lets more items through to the
 * candidateCap.
 */
const CLUSTERED_BITS: QuantisedBits = 8;

/**
 * What DaeModel.rank ranks: rows of embeddings to decode (with, per row, the items the embedding
 * was encoded from, for the item term; null where unknown), or interaction rows to fold in and score.
 */
export type RankInput =
  { embeddings: Float32Array; histories?: readonly (ArrayLike<number> | null)[] } | { rows: CsrMatrix };

/** A user's items per row of an embedding block (null: unknown, no item term). */
export type Histories = readonly (ArrayLike<number> | null)[];

/**
 * A trained autoencoder: encode users' rows to embeddings, decode embeddings to item scores, plus
 * an optional linear item-to-item term (ItemTerm) added to the scores of every path that knows the
 * user's items: scores and rank of rows always, decode, rank and scoresOf of embeddings when given
 * the items each embedding was encoded from. Embeddings and item vectors are the autoencoder's alone.
 * Holds its dense layers as tensors; call dispose() when done.
 */
export class DaeModel {
  private readonly sizes: number[];
  private readonly embedAt: number;
  private tensors: { w: tf.Tensor2D; b: tf.Tensor1D }[] | null = null;
  private output: tf.Tensor2D | null = null;
  private itemNorms: Float32Array | null = null;
  /** rank's score block where it ranks a full decode (other backends than wasm). */
  private scratch = new Float32Array(0);
  /** undefined until rank first asks (built per thread: 24 MB at 20k items). */
  private quantised: QuantisedOutputLayer | null | undefined;
  private listed: ListedScores | null | undefined;
  /** quantised's layer laid out cluster by cluster (rankFromClusters), undefined until asked. */
  private readonly clustered = new Map<ItemClusters, QuantisedOutputLayer | null>();
  /** Each partition's centroids as a tensor, kept while this model serves (probeClusters). */
  private readonly centroidColumns = new Map<ItemClusters, tf.Tensor2D>();

  constructor(
    readonly config: DaeConfig,
    readonly params: DaeParams,
    readonly itemTerm: ItemTerm | null = null,
    /** Where rank and rankSimilar take their candidates from, if anywhere (withIndex). */
    readonly index: ItemIndex | null = null,
  ) {
    if (itemTerm && itemTerm.items !== config.items)
      throw new RangeError(`an item term of ${itemTerm.items} items for a model of ${config.items}`);
    this.sizes = layerSizes(config);
    this.embedAt = embeddingLayer(config);
    if (index && (index.items !== config.items || index.width !== this.sizes[this.sizes.length - 2]))
      throw new RangeError(`an item index of ${index.items} x ${index.width} for a model of ${config.items} items`);
    this.sizes.slice(0, -1).forEach((fanIn, l) => {
      if (params.weights[l].length !== fanIn * this.sizes[l + 1] || params.biases[l].length !== this.sizes[l + 1]) {
        throw new RangeError(`layer ${l} parameters do not match the config`);
      }
    });
  }

  get embeddingDim(): number {
    return this.config.embeddingDim;
  }

  /** User embeddings (rows x embeddingDim, row-major) from their interaction rows; fold-in is the same call. */
  encode(rows: CsrMatrix): Float32Array {
    this.checkCols(rows);
    return this.rowsOf(rows.rows, this.config.embeddingDim, (start, end) =>
      this.runLayers(this.firstLayer(rows, start, end), 1, this.embedAt + 1),
    );
  }

  /**
   * Item scores (count x items, row-major) from user embeddings: higher is more recommended. With
   * `layout` 'items', as the product leaves them instead: items x count, item i's scores side by
   * side (for rankColumns; at most INFERENCE_CHUNK_ROWS rows). With `histories` (row r's items),
   * the item term is added.
   */
  decode(
    embeddings: Float32Array,
    count = embeddings.length / this.config.embeddingDim,
    into?: Float32Array,
    layout: ScoreLayout = 'users',
    histories?: Histories,
  ): Float32Array {
    const dim = this.config.embeddingDim;
    if (embeddings.length !== count * dim) throw new RangeError(`expected ${count} x ${dim} embedding values`);
    if (histories && histories.length !== count) throw new RangeError(`expected ${count} histories`);
    const out = this.rowsOf(
      count,
      this.config.items,
      (start, end) => {
        const e = tf.tensor2d(embeddings.subarray(start * dim, end * dim), [end - start, dim]);
        return this.outputLayer(this.runLayers(e, this.embedAt + 1, this.sizes.length - 2), 1);
      },
      into,
      layout === 'items' ? 'keep' : 'transpose',
    );
    if (this.itemTerm && histories) this.itemTerm.addTo(out, histories, layout);
    return out;
  }

  /**
   * decode's scores of a few items per embedding (itemLists[r] for row r), without a product over
   * the catalogue: the hidden layers as decode runs them, then each item's sum in order, bias
   * first, rounded to float32 at every step, which is how the backend's kernel sums it (on wasm,
   * the same bits). Reads the item-major layer decode multiplies by, a row per item.
   */
  scoresOf(embeddings: Float32Array, itemLists: readonly ArrayLike<number>[], histories?: Histories): Float32Array[] {
    const [dim, count] = [this.config.embeddingDim, itemLists.length];
    if (embeddings.length !== count * dim) throw new RangeError(`expected ${count} x ${dim} embedding values`);
    const out = this.scoresFromHidden(this.hiddenOf({ embeddings }, 0, count), itemLists);
    if (this.itemTerm && histories)
      out.forEach((scores, r) => this.itemTerm!.addToListed(histories[r], itemLists[r], scores));
    return out;
  }

  /**
   * Each row's ranked best items (rankings[r] for row r of the embeddings, or of the histories'
   * scores), the same items and scores as ranking the row's decode. On wasm, a quantised pass over
   * the catalogue (QuantisedOutputLayer, about twice the float32 product's speed) bounds every
   * score, and only the items it cannot rule out are scored exactly (scoresOf's sums, the bits a
   * decode gives); elsewhere, ranked from the decode.
   */
  rank(input: RankInput, rankings: readonly Ranking[]): RankedItems[] {
    return this.index ? this.rankFromIndex(input, rankings, this.index) : this.rankExact(input, rankings);
  }

  /**
   * rank through the item index: each row's candidates are the index's best for its hidden vector
   * (k, plus its exclusions, plus an over-fetch), norm range by range from the largest norms down
   * until no item left can reach the row's k-th best (prunedCandidatesFromIndex), and the items
   * the item term touches (the index knows the autoencoder's scores alone), scored exactly as a
   * decode scores them and ranked. A row the index cannot serve (too many exclusions, a
   * non-finite hidden vector) is ranked from its decode.
   */
  private rankFromIndex(input: RankInput, rankings: readonly Ranking[], index: ItemIndex): RankedItems[] {
    if (index.clusters) return this.rankFromClusters(input, rankings, index.clusters.scores, index.probes);
    const out: RankedItems[] = [];
    for (let start = 0; start < rankings.length; start += INFERENCE_CHUNK_ROWS) {
      const end = Math.min(rankings.length, start + INFERENCE_CHUNK_ROWS);
      const hidden = this.hiddenOf(input, start, end);
      const histories = this.itemTerm ? historiesOf(input, start, end) : null;
      const chunk = rankings.slice(start, end);
      const { rows } = prunedCandidatesFromIndex(
        index,
        hidden,
        chunk,
        chunk.map((_, r) => (histories?.[r] ? this.itemTerm!.rowOf(histories[r]).items : null)),
        this.config.items,
        (lists) => {
          const exact = this.scoresFromHidden(hidden, lists);
          if (histories) exact.forEach((scores, r) => this.itemTerm!.addToListed(histories[r], lists[r], scores));
          return exact;
        },
      );
      rows.forEach((found, r) => {
        const ranking = chunk[r];
        // from a decode, not rankExact's quantised pass: its copy of the layer is not worth making for a few rows
        out.push(
          found ? rankListed(found.items, found.scores, ranking.k) : this.rankDecoded(input, start + r, ranking),
        );
      });
    }
    return out;
  }

  /**
   * rank through item clusters: each row's candidates are the items of the `probes` clusters whose
   * centroids score best with its hidden vector, less its exclusions; on wasm a quantised pass
   * over those clusters' slots (clusteredLayer) keeps the ones that can reach the row's top k among
   * them (the same bound rankExact's pass uses). Those and the items the item term touches are
   * scored exactly as a decode scores them. A row left with fewer than k, or excluding more than
   * MAX_INDEX_SHARE of the catalogue, is ranked from its decode.
   */
  private rankFromClusters(
    input: RankInput,
    rankings: readonly Ranking[],
    clusters: ItemClusters,
    probes: number,
  ): RankedItems[] {
    const out: RankedItems[] = [];
    const width = this.sizes[this.sizes.length - 2];
    for (let start = 0; start < rankings.length; start += INFERENCE_CHUNK_ROWS) {
      const end = Math.min(rankings.length, start + INFERENCE_CHUNK_ROWS);
      const hidden = this.hiddenOf(input, start, end);
      const histories = this.itemTerm ? historiesOf(input, start, end) : null;
      const chunk = rankings.slice(start, end);
      const lists = this.probeClusters(clusters, hidden, end - start, probes).map((chosen, r) =>
        // a row excluding much of the catalogue may find its best outside what it probes
        chunk[r].exclude.length > this.config.items * MAX_INDEX_SHARE
          ? null
          : this.probedCandidates(
              clusters,
              'scores',
              hidden.subarray(r * width, (r + 1) * width),
              chosen,
              chunk[r],
              histories?.[r] ? this.itemTerm!.rowOf(histories[r]).items : null,
            ),
      );
      const exact = this.scoresFromHidden(
        hidden,
        lists.map((list) => list ?? []),
      );
      if (histories)
        exact.forEach((scores, r) => lists[r] && this.itemTerm!.addToListed(histories[r], lists[r], scores));
      lists.forEach((list, r) => {
        const k = Math.min(chunk[r].k, this.config.items - chunk[r].exclude.length);
        out.push(
          !list || list.length < k
            ? this.rankDecoded(input, start + r, chunk[r])
            : topListed(list, exact[r], chunk[r].k),
        );
      });
    }
    return out;
  }

  /** Row `row` of the input ranked from its full decode: the path a row the index cannot serve takes. */
  private rankDecoded(input: RankInput, row: number, ranking: Ranking): RankedItems {
    return rankColumns(this.scoreChunk(oneRow(input, row, this.config.embeddingDim), 0, 1), this.config.items, [
      ranking,
    ])[0];
  }

  /**
   * A row's candidates from its probed clusters (`chosen`), less its exclusions, plus `extra`
   * (items scored apart: the item term's, whose scores the clusters cannot know). On wasm a
   * quantised pass over the clusters' slots keeps those that can reach the row's top k among them
   * (at most candidateCap(k), the best by the pass); the extra items are kept out of its ranking. Elsewhere every member.
   */
  private probedCandidates(
    clusters: ItemClusters,
    kind: 'scores' | 'cosines',
    query: Float32Array,
    chosen: Int32Array,
    ranking: Ranking,
    extra: ArrayLike<number> | null,
  ): Int32Array {
    const approx = this.clusteredLayer(clusters)?.approximate(query, 1, kind, clusters.rangesOf(chosen));
    if (!approx) return clusterCandidates(clusters, chosen, ranking, extra);
    const members = clusters.membersOf(chosen);
    const aside = extra ? Int32Array.from([...Array.from(ranking.exclude), ...Array.from(extra)]) : ranking.exclude;
    const found = boundedCandidates(
      approx.block,
      { k: ranking.k, exclude: positionsIn(clusters, chosen, aside) },
      approx.margins[0],
      candidateCap(ranking.k),
    );
    const out = Int32Array.from(found, (n) => members[n]);
    if (!extra) return out;
    const excluded = new Set<number>(Array.from(ranking.exclude));
    const all = new Set(out);
    for (let n = 0; n < extra.length; n++) if (!excluded.has(extra[n])) all.add(extra[n]);
    return Int32Array.from(all);
  }

  /** rank over the whole catalogue (see rank). */
  private rankExact(input: RankInput, rankings: readonly Ranking[]): RankedItems[] {
    const count = rankings.length;
    const layer = this.quantisedLayer();
    const out: RankedItems[] = [];
    for (let start = 0, step = layer ? QUANTISED_ROWS : INFERENCE_CHUNK_ROWS; start < count; start += step) {
      const end = Math.min(count, start + step);
      const chunk = rankings.slice(start, end);
      const hidden = layer && this.hiddenOf(input, start, end);
      const approx = hidden && layer.approximate(hidden, end - start);
      const histories = this.itemTerm ? historiesOf(input, start, end) : null;
      // approx is null for a non-finite row: that chunk is ranked from its decode
      out.push(
        ...(approx
          ? this.rankApproximated(approx, hidden, chunk, histories)
          : rankColumns(this.scoreChunk(input, start, end), this.config.items, chunk)),
      );
    }
    return out;
  }

  /**
   * The exact top k of each row from approximate scores within margins of a decode's. The item
   * term is added to both alike; its float32 addition may round each side differently, by half a
   * unit in the last place of the sum at most, so a row's margin grows by that much of its largest
   * touched score.
   */
  private rankApproximated(
    approx: { block: Float32Array; margins: Float64Array },
    hidden: Float32Array,
    rankings: readonly Ranking[],
    histories: Histories | null,
  ): RankedItems[] {
    if (histories) {
      const largest = this.itemTerm!.addTo(approx.block, histories, 'items');
      largest.forEach((max, r) => (approx.margins[r] += ROUNDING_SLACK * (max + approx.margins[r])));
    }
    const lists = candidatesOf(approx.block, this.config.items, rankings, approx.margins);
    const exact = this.scoresFromHidden(hidden, lists);
    if (histories) exact.forEach((scores, r) => this.itemTerm!.addToListed(histories[r], lists[r], scores));
    return lists.map((list, r) => rankListed(list, exact[r], rankings[r].k));
  }

  /** Rows [start, end) of the input's scores, items-major (decode's or scores' 'items' layout). */
  private scoreChunk(input: RankInput, start: number, end: number): Float32Array {
    // one block per model, reused from batch to batch: a new one per batch (1.3 MB for 16 rows at
    // 20k items) is garbage a scoring thread would collect several times a second
    const n = (end - start) * this.config.items;
    if (this.scratch.length < n) this.scratch = new Float32Array(n);
    const into = this.scratch.subarray(0, n);
    if ('embeddings' in input) {
      const dim = this.config.embeddingDim;
      return this.decode(
        input.embeddings.subarray(start * dim, end * dim),
        end - start,
        into,
        'items',
        input.histories?.slice(start, end),
      );
    }
    return this.scores(sliceRows(input.rows, start, end), into, 'items');
  }

  /** The output layer's input for rows [start, end) of the input (rows x width), as decode computes it. */
  lastHidden(input: RankInput, start: number, end: number): Float32Array {
    return this.hiddenOf(input, start, end);
  }

  /** Exact scores (a decode's bits on wasm) of listed items from lastHidden's rows, without the item term. */
  outputScores(hidden: Float32Array, itemLists: readonly ArrayLike<number>[]): Float32Array[] {
    return this.scoresFromHidden(hidden, itemLists);
  }

  /** The last hidden layer's values for rows [start, end) of the input, as decode computes them. */
  private hiddenOf(input: RankInput, start: number, end: number): Float32Array {
    const last = this.sizes.length - 2;
    const dim = this.config.embeddingDim;
    const h =
      'embeddings' in input
        ? tf.tidy(() =>
            this.runLayers(
              tf.tensor2d(input.embeddings.subarray(start * dim, end * dim), [end - start, dim]),
              this.embedAt + 1,
              last,
            ),
          )
        : tf.tidy(() => this.runLayers(this.firstLayer(input.rows, start, end), 1, last));
    const values = h.dataSync() as Float32Array;
    h.dispose();
    return values;
  }

  /**
   * Output-layer scores of chosen items from hidden rows (rows x width): each item's sum in order,
   * bias first, rounded to float32 at every step, which is how the backend's kernel sums it (on
   * wasm, the same bits, from the ListedScores kernel there). Without `withBias`, the products'
   * sum alone, as itemCosines' product makes it (its zero row times the bias adds nothing).
   */
  private scoresFromHidden(
    hidden: Float32Array,
    itemLists: readonly ArrayLike<number>[],
    withBias = true,
  ): Float32Array[] {
    const last = this.sizes.length - 2;
    const width = this.sizes[last];
    const listed = this.listedScores();
    if (listed) return itemLists.map((list, r) => listed.scores(hidden, r * width, list, withBias));
    const [w, b, items] = [this.params.weights[last], this.params.biases[last], this.config.items];
    return itemLists.map((list, r) => {
      const out = new Float32Array(list.length);
      const o = r * width;
      for (let n = 0; n < list.length; n++) {
        const i = list[n];
        let acc = withBias ? b[i] : 0;
        for (let k = 0; k < width; k++) acc = Math.fround(acc + Math.fround(w[i + k * items] * hidden[o + k]));
        out[n] = acc;
      }
      return out;
    });
  }

  /** The exact scorer of listed items over the item-major output layer: on wasm only. */
  private listedScores(): ListedScores | null {
    if (this.listed === undefined) this.listed = ListedScores.of(this.outputTensor());
    return this.listed;
  }

  /** The output layer quantised cluster by cluster, for rankFromClusters' first pass: on wasm only, as quantisedLayer. */
  private clusteredLayer(clusters: ItemClusters): QuantisedOutputLayer | null {
    if (!this.clustered.has(clusters)) {
      const last = this.sizes.length - 2;
      this.clustered.set(
        clusters,
        tf.getBackend() === 'wasm'
          ? QuantisedOutputLayer.of(
              this.params.weights[last],
              this.params.biases[last],
              this.sizes[last],
              this.config.items,
              clusters.members,
              CLUSTERED_BITS,
            )
          : null,
      );
    }
    return this.clustered.get(clusters)!;
  }

  /** The output layer quantised for rank's first pass: on wasm only, where scoresOf's sums are a decode's bits. */
  private quantisedLayer(): QuantisedOutputLayer | null {
    if (this.quantised === undefined) {
      const last = this.sizes.length - 2;
      this.quantised =
        tf.getBackend() === 'wasm'
          ? QuantisedOutputLayer.of(
              this.params.weights[last],
              this.params.biases[last],
              this.sizes[last],
              this.config.items,
            )
          : null;
    }
    return this.quantised;
  }

  /**
   * encode then decode without leaving the tensor world between them (`layout` as decode's), the
   * item term added unless `withItemTerm` is false (the autoencoder's reconstruction alone).
   */
  scores(rows: CsrMatrix, into?: Float32Array, layout: ScoreLayout = 'users', withItemTerm = true): Float32Array {
    this.checkCols(rows);
    const out = this.rowsOf(
      rows.rows,
      this.config.items,
      (start, end) => this.outputLayer(this.runLayers(this.firstLayer(rows, start, end), 1, this.sizes.length - 2), 1),
      into,
      layout === 'items' ? 'keep' : 'transpose',
    );
    if (this.itemTerm && withItemTerm) this.itemTerm.addTo(out, historiesOf({ rows }, 0, rows.rows)!, layout);
    return out;
  }

  /** The same autoencoder with this item term (or none): shares the parameters, builds its own tensors. */
  withItemTerm(term: ItemTerm | null): DaeModel {
    return new DaeModel(this.config, this.params, term, this.index);
  }

  /**
   * The same model ranking through an item index (or none): rank and rankSimilar then score only
   * the index's candidates, exactly. The index is shared, not owned. Builds its own tensors.
   */
  withIndex(index: ItemIndex | null): DaeModel {
    return new DaeModel(this.config, this.params, this.itemTerm, index);
  }

  /** The output layer as trained: w is width x items, row-major (item i's weights at h * items + i). */
  outputLayerParams(): { w: Float32Array; b: Float32Array; width: number; items: number } {
    const last = this.sizes.length - 2;
    return {
      w: this.params.weights[last],
      b: this.params.biases[last],
      width: this.sizes[last],
      items: this.config.items,
    };
  }

  /**
   * Item vectors for similar-item search: the output layer's column per item (items x width,
   * width = the last hidden layer) and its bias.
   */
  itemEmbeddings(): { dim: number; vectors: Float32Array; bias: Float32Array } {
    const last = this.params.weights.length - 1;
    const width = this.sizes[last];
    const items = this.config.items;
    const w = this.params.weights[last];
    const vectors = new Float32Array(items * width);
    for (let h = 0; h < width; h++) {
      for (let i = 0; i < items; i++) vectors[i * width + h] = w[h * items + i];
    }
    return { dim: width, vectors, bias: this.params.biases[last].slice() };
  }

  /**
   * Cosine of the given items' vectors (see itemEmbeddings) with every item's: indices.length x
   * items, row-major. Multiplies by the output layer the decoder already holds, so similar-item
   * search needs no second copy of the item vectors (480 MB at 200k items).
   */
  itemCosines(indices: ArrayLike<number>): Float32Array {
    const width = this.sizes[this.params.weights.length - 1];
    const items = this.config.items;
    const norms = this.outputNorms();
    const rows = this.itemVectors(indices);
    const product = tf.tidy(() => this.outputLayer(tf.tensor2d(rows, [indices.length, width]), 0));
    const out = new Float32Array(indices.length * items);
    readTransposedInto(product, out);
    product.dispose();
    for (let r = 0; r < indices.length; r++) {
      const own = norms[indices[r]];
      for (let j = 0; j < items; j++) {
        const scale = own * norms[j];
        out[r * items + j] = scale > 0 ? out[r * items + j] / scale : 0;
      }
    }
    return out;
  }

  /**
   * Each given item's nearest items by cosine (rankings[r] for indices[r]), the same items and
   * values as ranking its itemCosines row: on wasm, the quantised pass bounds every item's
   * product over its norm (which ranks a row as its cosines do), and only the items it cannot
   * rule out are compared exactly (as itemCosines computes them).
   */
  rankSimilar(indices: readonly number[], rankings: readonly Ranking[]): RankedItems[] {
    return this.index
      ? this.rankSimilarFromIndex(indices, rankings, this.index)
      : this.rankSimilarExact(indices, rankings);
  }

  /** rankSimilar through the item index's cosines: its candidates compared exactly, as itemCosines does. */
  private rankSimilarFromIndex(
    indices: readonly number[],
    rankings: readonly Ranking[],
    index: ItemIndex,
  ): RankedItems[] {
    const width = this.sizes[this.sizes.length - 2];
    const norms = this.outputNorms();
    const vectors = this.itemVectors(indices);
    const clusters = index.clusters?.cosines;
    const probed = clusters && this.probeClusters(clusters, vectors, indices.length, index.similarProbes);
    const fromClusters = (r: number) =>
      enough(
        this.probedCandidates(
          clusters!,
          'cosines',
          vectors.subarray(r * width, (r + 1) * width),
          probed![r],
          rankings[r],
          null,
        ),
        rankings[r].k,
      );
    const lists = indices.map((item, r) =>
      // a zero vector has no direction to search by: its cosines are all 0, ranked exactly
      norms[item] > 0
        ? probed
          ? fromClusters(r)
          : candidatesFromIndex(
              (want) => index.searchCosines(vectors.subarray(r * width, (r + 1) * width), 1, want)[0],
              this.config.items,
              rankings[r],
              null,
              OVER_FETCH.cosines,
            )
        : null,
    );
    const dots = this.scoresFromHidden(
      vectors,
      lists.map((list) => list ?? []),
      false,
    );
    return lists.map((list, r) => {
      if (!list) return rankedItems(this.itemCosines([indices[r]]), rankings[r].k, rankings[r].exclude);
      const own = norms[indices[r]];
      const cosines = Float32Array.from(list, (j, c) => (own * norms[j] > 0 ? dots[r][c] / (own * norms[j]) : 0));
      return topListed(list, cosines, rankings[r].k);
    });
  }

  /** rankSimilar over the whole catalogue (see rankSimilar). */
  private rankSimilarExact(indices: readonly number[], rankings: readonly Ranking[]): RankedItems[] {
    const layer = this.quantisedLayer();
    const fromCosines = (chunk: readonly number[], first: number) => {
      const [rows, items] = [this.itemCosines(chunk), this.config.items];
      return chunk.map((_, r) =>
        rankedItems(rows.subarray(r * items, (r + 1) * items), rankings[first + r].k, rankings[first + r].exclude),
      );
    };
    if (!layer) return fromCosines(indices, 0);
    const items = this.config.items;
    const norms = this.outputNorms();
    const out: RankedItems[] = [];
    for (let start = 0; start < indices.length; start += QUANTISED_ROWS) {
      const chunk = indices.slice(start, start + QUANTISED_ROWS);
      const n = chunk.length;
      const vectors = this.itemVectors(chunk);
      const approx = layer.approximate(vectors, n, 'cosines');
      if (!approx) {
        out.push(...fromCosines(chunk, start));
        continue;
      }
      const lists = candidatesOf(approx.block, items, rankings.slice(start, start + n), approx.margins);
      const dots = this.scoresFromHidden(vectors, lists, false);
      lists.forEach((list, r) => {
        const own = norms[chunk[r]];
        const cosines = Float32Array.from(list, (j, c) => (own * norms[j] > 0 ? dots[r][c] / (own * norms[j]) : 0));
        out.push(rankListed(list, cosines, rankings[start + r].k));
      });
    }
    return out;
  }

  /** Each item's output-vector norm, computed once per model. */
  private outputNorms(): Float32Array {
    const last = this.params.weights.length - 1;
    return (this.itemNorms ??= columnNorms(this.params.weights[last], this.sizes[last], this.config.items));
  }

  /** The given items' output vectors (their columns of the output layer), one row each. */
  private itemVectors(indices: ArrayLike<number>): Float32Array {
    const last = this.params.weights.length - 1;
    const [w, width, items] = [this.params.weights[last], this.sizes[last], this.config.items];
    const rows = new Float32Array(indices.length * width);
    for (let r = 0; r < indices.length; r++)
      for (let h = 0; h < width; h++) rows[r * width + h] = w[h * items + indices[r]];
    return rows;
  }

  dispose(): void {
    this.tensors?.forEach(({ w, b }) => (w.dispose(), b.dispose()));
    this.tensors = null;
    this.listed?.dispose();
    this.listed = undefined;
    this.output?.dispose();
    this.output = null;
    this.quantised = undefined;
    this.clustered.clear();
    this.centroidColumns.forEach((t) => t.dispose());
    this.centroidColumns.clear();
  }

  /** clusters.probe with the partition's centroid tensor made once per model, not per call. */
  private probeClusters(clusters: ItemClusters, queries: Float32Array, rows: number, probes: number): Int32Array[] {
    if (!this.centroidColumns.has(clusters)) this.centroidColumns.set(clusters, clusters.centroidColumns());
    return clusters.probe(queries, rows, probes, this.centroidColumns.get(clusters));
  }

  private firstLayer(rows: CsrMatrix, start: number, end: number): tf.Tensor2D {
    const sub = sliceRows(rows, start, end);
    const x = normalizedInput(sub, this.config.input);
    const pre = sparseFirstLayer(sub.rows, sub.indptr, sub.indices, x, this.params.weights[0], this.params.biases[0]);
    return activate(tf.tensor2d(pre, [sub.rows, this.sizes[1]]), this.config.activation) as tf.Tensor2D;
  }

  /** Applies hidden layers [from, to) to h (the output layer is outputLayer's). */
  private runLayers(h: tf.Tensor2D, from: number, to: number): tf.Tensor2D {
    const layers = this.layerTensors();
    let out = h;
    for (let l = from; l < to; l++) {
      // bias added inside the product's kernel: no second pass over the block
      out = activate(
        tf.fused.matMul({ a: out, b: layers[l].w, bias: layers[l].b }),
        this.config.activation,
      ) as tf.Tensor2D;
    }
    return out;
  }

  /**
   * The output layer's product for rows h (n x width), items-major: items x n, plus the bias when
   * `bias` is 1 (0 leaves it out, for cosines). The layer is held transposed, one row per item
   * with its bias first, and multiplied from the left: the backend's kernel then streams the big
   * operand from memory once per product, where h @ W streamed it once per few rows. With two
   * scoring threads sharing the memory bus that was the bottleneck (1.4-2.7 ms a row against
   * 1.2-1.4, docs/scaling.md). A first row of ones (or zeros) in hᵀ takes the bias into the same
   * sum, first, as the row-major kernel does: on wasm the scores are the same bits.
   */
  private outputLayer(h: tf.Tensor2D, bias: 0 | 1): tf.Tensor2D {
    const lead = tf.fill([1, h.shape[0]], bias);
    return tf.matMul(this.outputTensor(), tf.concat([lead, tf.transpose(h)], 0));
  }

  private outputTensor(): tf.Tensor2D {
    if (!this.output) {
      const last = this.sizes.length - 2;
      const [width, items] = [this.sizes[last], this.sizes[last + 1]];
      const w = this.params.weights[last];
      const b = this.params.biases[last];
      // kept: the first call may come from inside a tf.tidy
      this.output = tf.keep(
        filledTensor([items, width + 1], (out) => {
          // in blocks of items, so the block of rows being written stays in cache (seconds at 200k items otherwise)
          for (let i0 = 0; i0 < items; i0 += 64) {
            const i1 = Math.min(items, i0 + 64);
            for (let i = i0; i < i1; i++) out[i * (width + 1)] = b[i];
            for (let h = 0; h < width; h++) {
              const row = h * items;
              for (let i = i0; i < i1; i++) out[i * (width + 1) + 1 + h] = w[row + i];
            }
          }
        }),
      );
    }
    return this.output;
  }

  private layerTensors(): { w: tf.Tensor2D; b: tf.Tensor1D }[] {
    if (!this.tensors) {
      // kept: the first call may come from inside a tf.tidy. The first layer runs sparse in JS and
      // the output layer is held transposed (outputTensor): neither is a tensor here (a copy of
      // items x width floats saved per model).
      const last = this.sizes.length - 2;
      this.tensors = this.params.weights.map((w, l) => ({
        w: tf.keep(
          l === 0 || l === last ? tf.zeros([0, this.sizes[l + 1]]) : tf.tensor2d(w, [this.sizes[l], this.sizes[l + 1]]),
        ),
        // the output layer's bias lives in outputTensor's first column
        b: tf.keep(l === last ? tf.zeros([0]) : tf.tensor1d(this.params.biases[l])),
      }));
    }
    return this.tensors;
  }

  /**
   * count x width outputs, computed INFERENCE_CHUNK_ROWS rows at a time (inside a tidy). A single
   * chunk is returned as the backend read it, without a second copy (5 MB for a serving batch).
   * With `into` (count x width floats at least), they are read into it and a view of it returned.
   * `itemsMajor`: each chunk comes as width x rows (outputLayer's) and is transposed as it is read,
   * or with 'keep' returned as it comes (one chunk only).
   */
  private rowsOf(
    count: number,
    width: number,
    chunk: (start: number, end: number) => tf.Tensor,
    into?: Float32Array,
    itemsMajor: false | 'transpose' | 'keep' = false,
  ): Float32Array {
    const compute = (start: number, end: number) => tf.tidy(() => chunk(start, end));
    if (itemsMajor === 'keep' && count > INFERENCE_CHUNK_ROWS)
      throw new RangeError(`items-major scores come in one chunk: at most ${INFERENCE_CHUNK_ROWS} rows`);
    const read = itemsMajor === 'transpose' ? readTransposedInto : readInto;
    if (!into && count <= INFERENCE_CHUNK_ROWS && !itemsMajor) {
      if (count === 0) return new Float32Array(0);
      const t = compute(0, count);
      const values = t.dataSync() as Float32Array;
      t.dispose();
      return values;
    }
    // several chunks (or a given block): each read straight into its place
    const out = into ?? new Float32Array(count * width);
    for (let start = 0; start < count; start += INFERENCE_CHUNK_ROWS) {
      const end = Math.min(count, start + INFERENCE_CHUNK_ROWS);
      const t = compute(start, end);
      read(t, out.subarray(start * width, end * width));
      t.dispose();
    }
    return out.subarray(0, count * width);
  }

  private checkCols(rows: CsrMatrix): void {
    if (rows.cols !== this.config.items)
      throw new RangeError(`rows have ${rows.cols} columns, the model ${this.config.items} items`);
  }
}

/** Twice what two float32 additions may round a sum by, relative to it (float32 unit roundoff 2^-24). */
const ROUNDING_SLACK = 2 ** -22;

/** Rows [start, end)'s items: the interaction rows' own, or the histories given with embeddings. */
function historiesOf(input: RankInput, start: number, end: number): Histories | null {
  if ('rows' in input) {
    const { indptr, indices } = input.rows;
    return Array.from({ length: end - start }, (_, r) => indices.subarray(indptr[start + r], indptr[start + r + 1]));
  }
  return input.histories ? input.histories.slice(start, end) : null;
}

/** Row i of the input alone. */
function oneRow(input: RankInput, i: number, dim: number): RankInput {
  if ('rows' in input) return { rows: sliceRows(input.rows, i, i + 1) };
  return { embeddings: input.embeddings.subarray(i * dim, (i + 1) * dim), histories: input.histories?.slice(i, i + 1) };
}

/** The Euclidean norm of each column of a row-major (rows x cols) matrix. */
function columnNorms(m: Float32Array, rows: number, cols: number): Float32Array {
  const sums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sums[c] += m[r * cols + c] ** 2;
  return Float32Array.from(sums, Math.sqrt);
}

/** rankListed of the best k of a long list: a heap picks them, so the sort is over k, not the list. */
function topListed(items: ArrayLike<number>, scores: Float32Array, k: number): RankedItems {
  if (items.length <= 4 * k) return rankListed(items, scores, k);
  const best = topIndices(scores, k);
  return rankListed(
    Int32Array.from(best, (n) => items[n]),
    Float32Array.from(best, (n) => scores[n]),
    k,
  );
}

/** A candidate list that holds at least k, else null (the row is ranked exactly). */
function enough(list: Int32Array, k: number): Int32Array | null {
  return list.length >= k ? list : null;
}
