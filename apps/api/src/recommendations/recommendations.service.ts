import { Injectable, Logger } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { CatalogueItem, ErasureRepository, InteractionRepository } from '@app/database';
import { CachedUser, EmbeddingStoreRepository, TopItems } from '@app/embedding-store';
import { rankedItems, rowsFromItemLists, topK, withSeenItems } from '@app/model';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { Catalogue, CatalogueService, matchesAttributes } from './catalogue.service';
import { ItemFilter } from './dto/item-filter.input';
import { LiveModel, LiveModelService } from './live-model.service';
import { TickBatcher } from './tick-batcher';
import { RecommendationSource, Recommendations, ScoredItem, SessionRecommendations, UserEmbedding } from './models/recommendations.model';

/** Seen items scored one by one to merge them into a cached ranking; more are decoded. */
const MAX_RESCORED_ITEMS = 500;

interface History {
  items: string[];
  newest: Date | null;
}

interface Aligned {
  live: LiveModel;
  catalogue: Catalogue;
  items: (CatalogueItem | undefined)[];
  blocked: Uint8Array;
}

/** Items whose nearest neighbours are kept in memory per model (about 0.8 KB each). */
const SIMILAR_CACHE_ITEMS = 20_000;
/** Neighbours kept per item; a larger limit compares the item again. */
const NEIGHBOURS = 100;

/** An item's nearest items, ranked to `depth` (a shorter list holds every other item). */
interface Neighbours {
  top: TopItems;
  depth: number;
}

@Injectable()
export class RecommendationsService {
  private readonly logger = new Logger(RecommendationsService.name);
  private aligned: Aligned | null = null;
  private similar: { live: LiveModel; tops: Map<number, Neighbours>; precomputed: TickBatcher<string, TopItems | null> } | null = null;
  /** Users read in the same tick share one pipelined Redis round trip; one reader per live model. */
  private reader: { live: LiveModel; users: TickBatcher<string, CachedUser | null> } | null = null;

  constructor(
    private readonly live: LiveModelService,
    private readonly catalogue: CatalogueService,
    private readonly interactions: InteractionRepository,
    private readonly store: EmbeddingStoreRepository,
    private readonly env: EnvVars,
    private readonly erasures: ErasureRepository,
  ) {}

  /**
   * What user U should see next. Always answers: popularity when there is no model or no history.
   * Most requests end at the first step, with one Redis read: a cached embedding nothing was
   * recorded against since (recordInteractions flags it stale before it returns), whose
   * precomputed top items hold enough that pass the filter. While it is current, the items it was
   * encoded from are the user's seen items, so Postgres is asked only for a stale or missing
   * embedding (to fold the history in); what the top items cannot answer is decoded.
   */
  async forUser(userId: string, limit: number, excludeSeen: boolean, filter?: ItemFilter): Promise<Recommendations> {
    const live = this.live.current();
    const [catalogue, cached] = await Promise.all([this.catalogue.get(), live && this.cachedUser(live, userId)]);
    if (live && cached?.top && !cached.stale && excludeSeen) {
      // without the depth the list was ranked to, a short list may have been cut, not exhausted
      const items = this.fromTop(live, catalogue, cached.top, live.topItems ?? Infinity, limit, filter);
      if (items) return { items, modelVersion: live.version, source: RecommendationSource.EMBEDDING };
    }

    const current = cached && !cached.stale ? cached : null;
    // seen items kept, or known from the current embedding: nothing else needs the history
    const history = current && (!excludeSeen || current.seen) ? null : await this.history(userId);
    const embedded = live && this.embeddingOf(live, userId, cached, history);
    if (!live || !embedded) return this.popular(catalogue, limit, excludeSeen ? (history?.items ?? []) : [], filter, live?.version ?? null);
    // every item the user has seen (model indices), or null when that is not known
    const own = history ? indicesOf(live, history.items) : (current?.seen ?? null);
    // with Postgres down, a stale embedding's items are the best guess of what was seen
    const seen = excludeSeen ? (own ?? cached?.seen ?? []) : [];
    // what the embedding was encoded from: the model's item term adds to its scores from these
    const encodedFrom = own ?? cached?.seen ?? null;
    // the version's own depth: every list of a version must mean the same by its length
    const k = live.topItems ?? this.env.CACHED_TOP_ITEMS;
    const answer = (items: ScoredItem[]) => ({ items, modelVersion: live.version, source: embedded.source });
    if (!narrows(filter)) {
      // seen items kept: scored apart and merged into the ranking of the unseen ones, when few
      const merge = !excludeSeen && own && own.length <= MAX_RESCORED_ITEMS ? own : null;
      if (merge && current?.top && live.topItems !== null) {
        const items = await this.withOwnItems(live, catalogue, current.vector, current.top, live.topItems, merge, limit, filter);
        if (items) return answer(items);
      }
      // ranked in the scoring thread, seen items left out: the answer, and the list Redis caches
      const depth = Math.max(k, limit + RANKING_MARGIN);
      const ranked = await live.scoring.decode(embedded.vector, { k: depth, exclude: merge ?? seen }, encodedFrom);
      const cacheable = (excludeSeen || merge) && own && k > 0 ? { items: ranked.items.subarray(0, k), scores: ranked.scores.subarray(0, k) } : null;
      this.writeThrough(live, userId, embedded, cacheable, history, own);
      const items = merge ? await this.withOwnItems(live, catalogue, embedded.vector, ranked, depth, merge, limit, filter) : this.fromTop(live, catalogue, ranked, depth, limit, filter);
      // else too many candidates were inactive or excluded: the full row (written through already)
      return answer(items ?? this.rank(live, catalogue, await live.scoring.decode(embedded.vector, undefined, encodedFrom), limit, seen, filter));
    }
    const scores = await live.scoring.decode(embedded.vector, undefined, encodedFrom);
    this.writeThrough(live, userId, embedded, own && k > 0 ? rankedItems(scores, k, own) : null, history, own);
    return answer(this.rank(live, catalogue, scores, limit, seen, filter));
  }

  /**
   * excludeSeen false without decoding for it: the seen items' scores (a few dot products in a
   * scoring thread) merged into a ranking of the unseen ones ranked to `depth` (the cached list, or
   * a fold-in's). Null when the merged list runs out before `limit` items pass.
   */
  private async withOwnItems(live: LiveModel, catalogue: Catalogue, vector: Float32Array, unseen: TopItems, depth: number, own: readonly number[], limit: number, filter?: ItemFilter): Promise<ScoredItem[] | null> {
    // `own` is what the vector was encoded from, the item term's history too
    const merged = withSeenItems(unseen, depth, own, await live.scoring.itemScores(vector, own, own));
    return this.fromTop(live, catalogue, merged, merged.complete ? Infinity : merged.items.length, limit, filter);
  }

  /** Anonymous or session recommendations: the given items folded in as an ad hoc history. */
  async forItems(itemIds: string[], limit: number, filter?: ItemFilter): Promise<SessionRecommendations> {
    const catalogue = await this.catalogue.get();
    const live = this.live.current();
    const unknownItemIds = live ? itemIds.filter((id) => !live.itemIndex.has(id)) : [...itemIds];
    const known = itemIds.filter((id) => live?.itemIndex.has(id));
    if (!live || known.length === 0) return { ...this.popular(catalogue, limit, itemIds, filter, live?.version ?? null), unknownItemIds };
    const indices = known.map((id) => live.itemIndex.get(id)!);
    const answer = (items: ScoredItem[]) => ({ items, modelVersion: live.version, source: RecommendationSource.FOLD_IN, unknownItemIds });
    if (!narrows(filter)) {
      const depth = limit + RANKING_MARGIN;
      const items = this.fromTop(live, catalogue, await live.scoring.foldIn(indices, { k: depth, exclude: indices }), depth, limit, filter);
      if (items) return answer(items);
    }
    return answer(this.rank(live, catalogue, await live.scoring.foldIn(indices), limit, indices, filter));
  }

  /** Nearest items by cosine of the item vectors. */
  async similarItems(itemId: string, limit: number): Promise<Recommendations> {
    const catalogue = await this.catalogue.get();
    if (!catalogue.byId.has(itemId)) throw new ApiError(ApiErrorCode.NotFound, `No item "${itemId}"`);
    const live = this.live.current();
    const index = live?.itemIndex.get(itemId);
    // a new item (or no model yet): nothing to compare it with but popularity
    if (!live || index === undefined) return this.popular(catalogue, limit, [itemId], undefined, live?.version ?? null);
    const { top, depth } = await this.neighboursOf(live, index);
    const items = this.fromTop(live, catalogue, top, depth, limit) ?? this.rank(live, catalogue, await live.scoring.similar(index), limit, [index]);
    return { items, modelVersion: live.version, source: RecommendationSource.EMBEDDING };
  }

  /**
   * An item's nearest items (itself left out), kept in a bounded cache: a model's item vectors
   * never change, and requests concentrate on popular items. A miss reads the list the training
   * job precomputed into Redis for the popular items (the requests of a tick share a round trip),
   * else compares the item with the catalogue on a scoring thread.
   */
  private async neighboursOf(live: LiveModel, index: number): Promise<Neighbours> {
    if (this.similar?.live !== live) {
      const read = async (ids: string[]) => {
        const lists = await this.store.readSimilar(live.version, ids);
        return new Map(ids.map((id, i) => [id, lists[i]]));
      };
      this.similar = { live, tops: new Map(), precomputed: new TickBatcher(read, null) };
    }
    const { tops, precomputed } = this.similar;
    const hit = tops.get(index);
    if (hit) {
      // least recently used goes first: refresh this one's place
      tops.delete(index);
      tops.set(index, hit);
      return hit;
    }
    // Redis down: compared here, as for an item without a list
    const stored = live.similarItems === null ? null : await precomputed.get(live.itemIds[index]).catch(() => null);
    const found = stored
      ? { top: stored, depth: live.similarItems! }
      : { top: await live.scoring.similar(index, { k: NEIGHBOURS, exclude: [index] }), depth: NEIGHBOURS };
    if (this.similar.live === live) {
      tops.set(index, found);
      if (tops.size > SIMILAR_CACHE_ITEMS) tops.delete(tops.keys().next().value!);
    }
    return found;
  }

  /** The vector other services use as the user's features; null without a model or a history. */
  async userEmbedding(userId: string): Promise<UserEmbedding | null> {
    const live = this.live.current();
    if (!live) return null;
    // as forUser: only an embedding that is stale or missing needs the history, to fold it in
    const cached = await this.cachedUser(live, userId);
    const history = cached && !cached.stale ? null : await this.history(userId);
    const embedded = this.embeddingOf(live, userId, cached, history);
    if (!embedded) return null;
    if (embedded.source === RecommendationSource.FOLD_IN) this.writeThrough(live, userId, embedded, null, history, history && indicesOf(live, history.items));
    return { userId, modelVersion: live.version, dimension: embedded.vector.length, vector: Array.from(embedded.vector), source: embedded.source };
  }

  /** Redis down: no cache (the caller folds in from Postgres). */
  private cachedUser(live: LiveModel, userId: string): Promise<CachedUser | null> {
    if (this.reader?.live !== live) {
      const read = async (ids: string[]) => {
        const users = await this.store.readUsers(live.version, ids);
        return new Map(ids.map((id, i) => [id, users[i]]));
      };
      this.reader = { live, users: new TickBatcher(read, null) };
    }
    return this.reader.users.get(userId).catch(() => null);
  }

  /**
   * The cached embedding while it is current (not flagged stale, and no interaction in the history
   * newer than it), or without a history (not read, or Postgres down); else the history encoded
   * now (fold-in). Null for a user without an embedding or a known item.
   */
  private embeddingOf(live: LiveModel, userId: string, cached: CachedUser | null, history: History | null) {
    if (cached && (!history || isCurrent(live, cached, history.newest))) return { vector: cached.vector, source: RecommendationSource.EMBEDDING, cached };
    const known = history?.items.filter((id) => live.itemIndex.has(id)) ?? [];
    if (known.length === 0) return null;
    return { vector: this.foldIn(live, known), source: RecommendationSource.FOLD_IN, cached };
  }

  /**
   * Keeps Redis ahead of the next request: a folded-in vector with its top items, or the top items
   * a cached vector lacked. Best effort, after the answer is computed. `top` must leave out every
   * item of the full history (or be null); `own` is that history's items, which a fold-in encoded.
   */
  private writeThrough(
    live: LiveModel,
    userId: string,
    embedded: { vector: Float32Array; source: RecommendationSource; cached: CachedUser | null },
    top: TopItems | null,
    history: History | null,
    own: ArrayLike<number> | null,
  ): void {
    const fold = { vector: embedded.vector, asOf: history?.newest ?? null, top, seenMark: embedded.cached?.staleMark ?? null, seen: own ?? [] };
    const write =
      embedded.source === RecommendationSource.FOLD_IN
        ? this.erasures.idHash(userId).then((idHash) => this.store.writeUser(live.version, userId, idHash, fold))
        : top && !embedded.cached?.top
          ? this.store.writeTop(live.version, userId, top)
          : null;
    void write?.catch((err: Error) => this.logger.warn(`could not cache ${userId}: ${err.message}`));
  }

  /**
   * The first `limit` precomputed top items the filter lets through, skipping inactive ones; null
   * when the list runs out first (then the caller decodes). The list is a prefix of the full
   * ranking, so a filtered prefix of it is the filtered ranking's prefix.
   */
  private fromTop(live: LiveModel, catalogue: Catalogue, top: TopItems, listSize: number, limit: number, filter?: ItemFilter): ScoredItem[] | null {
    const { items } = this.alignedWith(live, catalogue);
    const include = filter?.includeIds ? new Set(filter.includeIds) : null;
    const exclude = filter?.excludeIds?.length ? new Set(filter.excludeIds) : null;
    const out: ScoredItem[] = [];
    for (let r = 0; r < top.items.length && out.length < limit; r++) {
      const item = items[top.items[r]];
      if (!item || !item.active || (include && !include.has(item.id)) || exclude?.has(item.id)) continue;
      if (filter?.attributes && !matchesAttributes(item.attributes, filter.attributes)) continue;
      out.push({ item: { id: item.id, attributes: item.attributes }, score: top.scores[r] });
    }
    // a list shorter than it was ranked to be holds every candidate: it cannot run out early
    return out.length === limit || top.items.length < listSize ? out : null;
  }

  private foldIn(live: LiveModel, itemIds: string[]): Float32Array {
    return live.model.encode(rowsFromItemLists(live.itemIds.length, [itemIds.map((id) => live.itemIndex.get(id)!)]));
  }

  private async history(userId: string): Promise<History | null> {
    try {
      return await this.interactions.seenItemsOf(userId);
    } catch (err) {
      this.logger.warn(`history of ${userId} unavailable, serving from cache: ${(err as Error).message}`);
      return null;
    }
  }

  /** Top-k of a score row over what may be recommended: active, allowed by the filter, not excluded. */
  private rank(live: LiveModel, catalogue: Catalogue, scores: Float32Array, limit: number, exclude: ArrayLike<number>, filter?: ItemFilter): ScoredItem[] {
    const { items, blocked } = this.alignedWith(live, catalogue);
    const masked = Float32Array.from(scores);
    // topK skips NaN: items that are not in the catalogue or not active, then the filter's
    for (let i = 0; i < masked.length; i++) if (blocked[i]) masked[i] = NaN;
    const include = filter?.includeIds ? new Set(filter.includeIds) : null;
    if (include || filter?.attributes) {
      for (let i = 0; i < masked.length; i++) {
        const item = items[i];
        if (item && ((include && !include.has(item.id)) || (filter?.attributes && !matchesAttributes(item.attributes, filter.attributes)))) masked[i] = NaN;
      }
    }
    for (let r = 0; r < exclude.length; r++) masked[exclude[r]] = NaN;
    for (const i of indicesOf(live, filter?.excludeIds ?? [])) masked[i] = NaN;
    return Array.from(topK(masked, limit), (i) => {
      const item = items[i]!;
      return { item: { id: item.id, attributes: item.attributes }, score: masked[i] };
    });
  }

  /**
   * The catalogue entry of each model item, by item index, and which ones may never be
   * recommended (unknown to the catalogue or inactive); built once per (model, catalogue) pair.
   */
  private alignedWith(live: LiveModel, catalogue: Catalogue): Aligned {
    if (this.aligned?.live !== live || this.aligned.catalogue !== catalogue) {
      const items = live.itemIds.map((id) => catalogue.byId.get(id));
      const blocked = Uint8Array.from(items, (item) => (item?.active ? 0 : 1));
      this.aligned = { live, catalogue, items, blocked };
    }
    return this.aligned;
  }

  private popular(catalogue: Catalogue, limit: number, exclude: string[], filter: ItemFilter | undefined, modelVersion: number | null): Recommendations {
    const excluded = new Set([...exclude, ...(filter?.excludeIds ?? [])]);
    const include = filter?.includeIds ? new Set(filter.includeIds) : null;
    const items: ScoredItem[] = [];
    for (const item of catalogue.popular) {
      if (items.length === limit) break;
      if (excluded.has(item.id) || (include && !include.has(item.id))) continue;
      if (filter?.attributes && !matchesAttributes(item.attributes, filter.attributes)) continue;
      items.push({ item: { id: item.id, attributes: item.attributes }, score: item.interactions });
    }
    return { items, modelVersion, source: RecommendationSource.POPULARITY };
  }
}

/**
 * Candidates ranked beyond the limit, so that inactive and excluded items can be skipped without a
 * second decode; a filter that runs through them all falls back to the full score row.
 */
const RANKING_MARGIN = 100;

/** A filter that may let through only a few items: ranking it needs the full score row. */
function narrows(filter: ItemFilter | undefined): boolean {
  return !!(filter?.includeIds || filter?.attributes);
}

/** A cached embedding still describes the user: not flagged, and nothing in the history newer than it. */
function isCurrent(live: LiveModel, cached: CachedUser, newest: Date | null): boolean {
  if (cached.stale) return false;
  const asOf = cached.asOf ?? live.watermark;
  return !newest || !asOf || newest <= asOf;
}

/** Model item indices of the ids the model knows. */
function indicesOf(live: LiveModel, itemIds: readonly string[]): number[] {
  const out: number[] = [];
  for (const id of itemIds) {
    const i = live.itemIndex.get(id);
    if (i !== undefined) out.push(i);
  }
  return out;
}
