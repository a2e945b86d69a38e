import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter, register } from 'prom-client';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { Catalogue, CatalogueService } from './catalogue.service';
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

const ANSWERS_METRIC = 'recoder_recommendation_answers_total';
/** One counter per process, however many app instances it builds (the tests build several). */
const answersCounted =
  (register.getSingleMetric(ANSWERS_METRIC) as Counter<'subject' | 'source' | 'preview'> | undefined) ??
  new Counter({
    name: ANSWERS_METRIC,
    help: 'Recommendation answers by subject (user, session, item), source and whether they were previews (preview="true": an operator looking, not shown to a user)',
    labelNames: ['subject', 'source', 'preview'],
  });

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
    const live = this.live.current();
    const [catalogue, subject] = await Promise.all([this.catalogue.get(), this.users.of(live, userId, excludeSeen)]);
    return this.first(this.userSources, this.ask(live, catalogue, subject, options), 'user');
  }

  /** Anonymous or session recommendations: the given items folded in as an ad hoc history. */
  async forItems(itemIds: string[], options: AskOptions): Promise<SessionRecommendations & Answer> {
    const catalogue = await this.catalogue.get();
    const live = this.live.current();
    const unknownItemIds = itemIds.filter((id) => !live?.itemIndex.has(id));
    const answer = await this.first(
      this.sessionSources,
      this.ask(live, catalogue, new SessionSubject(itemIds), options),
      'session',
    );
    return { ...answer, unknownItemIds };
  }

  /** Nearest items by cosine of the item vectors. */
  async similarItems(itemId: string, options: AskOptions): Promise<Answer> {
    const catalogue = await this.catalogue.get();
    if (!catalogue.byId.has(itemId)) throw new ApiError(ApiErrorCode.NotFound, `No item "${itemId}"`);
    return this.first(
      this.itemSources,
      this.ask(this.live.current(), catalogue, new ItemSubject(itemId), options),
      'item',
    );
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

  /** The first source's answer that has one, named for the model that scored it. */
  private async first<S extends Subject>(
    sources: readonly Source<S>[],
    ask: Ask<S>,
    subject: 'user' | 'session' | 'item',
  ): Promise<Answer> {
    for (const source of sources) {
      const found = await source.answer(ask);
      if (!found) continue;
      answersCounted.inc({ subject, source: found.source, preview: String(ask.preview) });
      return { ...found, modelVersion: ask.live?.version ?? null, answerId: ask.answerId, preview: ask.preview };
    }
    throw new Error('no recommendation source answered: popularity must come last');
  }
}

function embedding(live: LiveModel, userId: string, vector: Float32Array, source: RecommendationSource): UserEmbedding {
  return { userId, modelVersion: live.version, dimension: vector.length, vector: Array.from(vector), source };
}
