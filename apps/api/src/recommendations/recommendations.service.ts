import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { NO_MODEL_VERSION, RecommendationSurface } from '@app/feedback';
import { OnlineMetricsBuffer } from '../feedback/online-metrics-buffer';
import { RecommendationIds } from '../feedback/recommendation-ids';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { Catalogue, CatalogueService } from './catalogue.service';
import { countAnswer } from './answers-metric';
import { HiddenItems, withHidden } from './hidden-items';
import { LiveModel, LiveModelService } from './live-model.service';
import { RecommendationSource, SessionRecommendations, UserEmbedding } from './models/recommendations.model';
import {
  Answer,
  Ask,
  AskOptions,
  CandidateRules,
  FoldInSource,
  ItemSubject,
  ITEM_SOURCES,
  SESSION_SOURCES,
  SessionSubject,
  Source,
  Subject,
  USER_SOURCES,
  UserSubject,
  UserSubjects,
} from './sources';

/**
 * Recommendations for a user, a session or an item: each request is asked of a list of sources
 * (sources/, one file each) in order, and the first that answers gives the answer. This class
 * only gathers what the sources share: the model, the catalogue and the subject.
 */
@Injectable()
export class RecommendationsService {
  constructor(
    private readonly live: LiveModelService,
    private readonly catalogue: CatalogueService,
    private readonly candidates: CandidateRules,
    private readonly users: UserSubjects,
    private readonly foldIn: FoldInSource,
    private readonly hidden: HiddenItems,
    private readonly ids: RecommendationIds,
    private readonly online: OnlineMetricsBuffer,
    @Inject(USER_SOURCES) private readonly userSources: Source<UserSubject>[],
    @Inject(SESSION_SOURCES) private readonly sessionSources: Source<SessionSubject>[],
    @Inject(ITEM_SOURCES) private readonly itemSources: Source<ItemSubject>[],
  ) {}

  /**
   * What user U should see next. Always answers: popularity when there is no model or no history.
   * Most requests end at the cached list, with one Redis read; Postgres is asked only for a stale
   * or missing embedding (to fold the history in), and what the list cannot answer is decoded.
   */
  async forUser(userId: string, excludeSeen: boolean, options: AskOptions): Promise<Answer> {
    // the user's arm when an experiment runs: every path below (cached list, fold-in, decode) reads that version
    const live = this.live.forUser(userId);
    const [catalogue, subject, hidden] = await Promise.all([
      this.catalogue.get(),
      this.users.of(live, userId, excludeSeen),
      this.hidden.hiddenFor(live, userId, new Date()),
    ]);
    return this.first(
      this.userSources,
      this.ask(live, catalogue, subject, withHidden(options, hidden)),
      'user',
      userId,
    );
  }

  /**
   * Anonymous or session recommendations: the given items folded in as an ad hoc history; for a
   * known user (`userId`), what is hidden from them stays out.
   */
  async forItems(
    itemIds: string[],
    userId: string | null,
    options: AskOptions,
  ): Promise<SessionRecommendations & Answer> {
    const [catalogue, hidden] = await Promise.all([this.catalogue.get(), this.hiddenFrom(userId)]);
    const live = this.modelFor(userId);
    const unknownItemIds = itemIds.filter((id) => !live?.itemIndex.has(id));
    const answer = await this.first(
      this.sessionSources,
      this.ask(live, catalogue, new SessionSubject(itemIds), withHidden(options, hidden)),
      'session',
      userId,
    );
    return { ...answer, unknownItemIds };
  }

  /** Nearest items by cosine of the item vectors; for a known user (`userId`), what is hidden from them stays out. */
  async similarItems(itemId: string, userId: string | null, options: AskOptions): Promise<Answer> {
    const [catalogue, hidden] = await Promise.all([this.catalogue.get(), this.hiddenFrom(userId)]);
    if (!catalogue.byId.has(itemId)) throw new ApiError(ApiErrorCode.NotFound, `No item "${itemId}"`);
    return this.first(
      this.itemSources,
      this.ask(this.modelFor(userId), catalogue, new ItemSubject(itemId), withHidden(options, hidden)),
      'item',
      userId,
    );
  }

  /** A known user's arm; an anonymous request is answered by the active version. */
  private modelFor(userId: string | null): LiveModel | null {
    return userId === null ? this.live.current() : this.live.forUser(userId);
  }

  private hiddenFrom(userId: string | null): Promise<readonly string[]> {
    return userId === null ? Promise.resolve([]) : this.hidden.hiddenFor(null, userId, new Date());
  }

  /** The vector other services use as the user's features; null without a model or a history. */
  async userEmbedding(userId: string): Promise<UserEmbedding | null> {
    const live = this.live.current();
    if (!live) return null;
    // seen items kept: only an embedding that is stale or missing needs the history, to fold it in
    const subject = await this.users.of(live, userId, false);
    if (subject.cached && (await subject.servesCached(live)))
      return embedding(live, userId, subject.cached.vector, RecommendationSource.EMBEDDING);
    const folded = await this.foldIn.foldIn(live, subject);
    if (!folded) return null;
    this.foldIn.writeThrough(live, subject, folded, null);
    return embedding(live, userId, folded.vector, RecommendationSource.FOLD_IN);
  }

  private ask<S extends Subject>(
    live: LiveModel | null,
    catalogue: Catalogue,
    subject: S,
    options: AskOptions,
  ): Ask<S> {
    return {
      answerId: options.answerId ?? randomUUID(),
      subject,
      limit: options.limit,
      requestedVersion: options.modelVersion ?? null,
      preview: options.preview ?? false,
      live,
      candidates: this.candidates.of(live, catalogue, options.filter, options.exclude),
    };
  }

  /** The first source's answer that has one, named for the model that scored it, its items numbered. */
  private async first<S extends Subject>(
    sources: readonly Source<S>[],
    ask: Ask<S>,
    subject: 'user' | 'session' | 'item',
    userId: string | null,
  ): Promise<Answer> {
    for (const source of sources) {
      const found = await source.answer(ask);
      if (!found) continue;
      countAnswer(subject, found.source, ask.preview);
      const modelVersion = ask.live?.version ?? null;
      const items = found.items.map((item, i) => ({ ...item, position: i + 1 }));
      // an operator's preview is shown to no user: nothing to attribute
      const recommendationId =
        ask.preview || !this.ids.enabled
          ? null
          : await this.ids.issue(
              SURFACES[subject],
              userId,
              modelVersion,
              items.map((s) => s.item.id),
            );
      // counted in memory, written in batches: no write per answer; an anonymous one in its id's unit, as its impressions
      if (!ask.preview)
        this.online.answer(modelVersion ?? NO_MODEL_VERSION, userId ?? recommendationId ?? ask.answerId);
      return { ...found, items, modelVersion, answerId: ask.answerId, preview: ask.preview, recommendationId };
    }
    throw new Error('no recommendation source answered: popularity must come last');
  }
}

const SURFACES = {
  user: RecommendationSurface.USER,
  session: RecommendationSurface.SESSION,
  item: RecommendationSurface.SIMILAR,
} as const;

function embedding(live: LiveModel, userId: string, vector: Float32Array, source: RecommendationSource): UserEmbedding {
  return { userId, modelVersion: live.version, dimension: vector.length, vector: Array.from(vector), source };
}
