import { Injectable, Logger } from '@nestjs/common';
import { CatalogueItem, InteractionRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { rowsFromItemLists, topK } from '@app/model';
import { ApiError, ApiErrorCode, BadUserInputError } from '../errors/api-error';
import { Catalogue, CatalogueService, matchesAttributes } from './catalogue.service';
import { DecodeBatcher } from './decode-batcher';
import { ItemFilter } from './dto/item-filter.input';
import { LiveModel, LiveModelService } from './live-model.service';
import { RecommendationSource, Recommendations, ScoredItem, SessionRecommendations, UserEmbedding } from './models/recommendations.model';

export const MAX_LIMIT = 500;
const MAX_SESSION_ITEMS = 1000;

interface History {
  items: string[];
  newest: Date | null;
}

@Injectable()
export class RecommendationsService {
  private readonly logger = new Logger(RecommendationsService.name);
  private readonly batcher = new DecodeBatcher();
  private aligned: { live: LiveModel; catalogue: Catalogue; items: (CatalogueItem | undefined)[] } | null = null;

  constructor(
    private readonly live: LiveModelService,
    private readonly catalogue: CatalogueService,
    private readonly interactions: InteractionRepository,
    private readonly store: EmbeddingStoreRepository,
  ) {}

  /** What user U should see next. Always answers: popularity when there is no model or no history. */
  async forUser(userId: string, limit: number, excludeSeen: boolean, filter?: ItemFilter): Promise<Recommendations> {
    checkLimit(limit);
    const [catalogue, history] = await Promise.all([this.catalogue.get(), this.history(userId)]);
    const seen = excludeSeen ? (history?.items ?? []) : [];
    const live = this.live.current();
    const embedded = live && (await this.embeddingOf(live, userId, history));
    if (!live || !embedded) return this.popular(catalogue, limit, seen, filter, live?.version ?? null);
    const scores = await this.batcher.decode(live.model, embedded.vector);
    return { items: this.rank(live, catalogue, scores, limit, seen, filter), modelVersion: live.version, source: embedded.source };
  }

  /** Anonymous or session recommendations: the given items folded in as an ad hoc history. */
  async forItems(itemIds: string[], limit: number, filter?: ItemFilter): Promise<SessionRecommendations> {
    checkLimit(limit);
    if (itemIds.length > MAX_SESSION_ITEMS) throw new BadUserInputError(`At most ${MAX_SESSION_ITEMS} item ids`, { field: 'itemIds' });
    const catalogue = await this.catalogue.get();
    const live = this.live.current();
    const unknownItemIds = live ? itemIds.filter((id) => !live.itemIndex.has(id)) : [...itemIds];
    const known = itemIds.filter((id) => live?.itemIndex.has(id));
    if (!live || known.length === 0) return { ...this.popular(catalogue, limit, itemIds, filter, live?.version ?? null), unknownItemIds };
    const scores = await this.batcher.decode(live.model, this.foldIn(live, known));
    return { items: this.rank(live, catalogue, scores, limit, itemIds, filter), modelVersion: live.version, source: RecommendationSource.FOLD_IN, unknownItemIds };
  }

  /** Nearest items by cosine of the item vectors. */
  async similarItems(itemId: string, limit: number): Promise<Recommendations> {
    checkLimit(limit);
    const catalogue = await this.catalogue.get();
    if (!catalogue.byId.has(itemId)) throw new ApiError(ApiErrorCode.NotFound, `No item "${itemId}"`);
    const live = this.live.current();
    const index = live?.itemIndex.get(itemId);
    // a new item (or no model yet): nothing to compare it with but popularity
    if (!live || index === undefined) return this.popular(catalogue, limit, [itemId], undefined, live?.version ?? null);
    const scores = live.similarity.scores(index);
    return { items: this.rank(live, catalogue, scores, limit, [itemId]), modelVersion: live.version, source: RecommendationSource.EMBEDDING };
  }

  /** The vector other services use as the user's features; null without a model or a history. */
  async userEmbedding(userId: string): Promise<UserEmbedding | null> {
    const live = this.live.current();
    if (!live) return null;
    const embedded = await this.embeddingOf(live, userId, await this.history(userId));
    if (!embedded) return null;
    return { userId, modelVersion: live.version, dimension: embedded.vector.length, vector: Array.from(embedded.vector), source: embedded.source };
  }

  /**
   * The cached embedding while it is current; otherwise the history encoded now and written
   * through to Redis. Redis down: fold-in from Postgres; Postgres down: the cache as it is.
   */
  private async embeddingOf(live: LiveModel, userId: string, history: History | null) {
    const cached = await this.store.readUser(live.version, userId).catch(() => null);
    const asOf = cached?.asOf ?? live.watermark;
    const current = cached && !cached.stale && (!history?.newest || !asOf || history.newest <= asOf);
    if (cached && (current || !history)) return { vector: cached.vector, source: RecommendationSource.EMBEDDING };
    const known = history?.items.filter((id) => live.itemIndex.has(id)) ?? [];
    if (known.length === 0) return null;
    const vector = this.foldIn(live, known);
    void this.store.writeUser(live.version, userId, vector, history!.newest).catch(() => undefined);
    return { vector, source: RecommendationSource.FOLD_IN };
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
  private rank(live: LiveModel, catalogue: Catalogue, scores: Float32Array, limit: number, exclude: string[], filter?: ItemFilter): ScoredItem[] {
    const { itemIndex } = live;
    const items = this.catalogueItemsOf(live, catalogue);
    const masked = Float32Array.from(scores);
    const include = filter?.includeIds ? new Set(filter.includeIds) : null;
    for (let i = 0; i < masked.length; i++) {
      const item = items[i];
      // topK skips NaN
      if (!item || !item.active) masked[i] = NaN;
    }
    if (include || filter?.attributes) {
      for (let i = 0; i < masked.length; i++) {
        const item = items[i];
        if (item && ((include && !include.has(item.id)) || (filter?.attributes && !matchesAttributes(item.attributes, filter.attributes)))) masked[i] = NaN;
      }
    }
    for (const id of [...exclude, ...(filter?.excludeIds ?? [])]) {
      const i = itemIndex.get(id);
      if (i !== undefined) masked[i] = NaN;
    }
    return Array.from(topK(masked, limit), (i) => {
      const item = items[i]!;
      return { item: { id: item.id, attributes: item.attributes }, score: masked[i] };
    });
  }

  /** The catalogue entry of each model item, by item index; built once per (model, catalogue) pair. */
  private catalogueItemsOf(live: LiveModel, catalogue: Catalogue): (CatalogueItem | undefined)[] {
    if (this.aligned?.live !== live || this.aligned.catalogue !== catalogue) {
      this.aligned = { live, catalogue, items: live.itemIds.map((id) => catalogue.byId.get(id)) };
    }
    return this.aligned.items;
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

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new BadUserInputError(`limit must be between 1 and ${MAX_LIMIT}`, { field: 'limit' });
}
