import { Injectable } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { ErasureRepository } from '@app/database';
import {
  RecommendationClaims,
  RecommendationIdCodec,
  RecommendationIdError,
  RecommendationIdProblem,
  RecommendationSurface,
} from '@app/feedback';
import { ApiError, ApiErrorCode } from '../errors/api-error';

const DAY_SECONDS = 86_400;

/**
 * Issues and checks the recommendationId of every answer (libs/feedback's codec). The key is
 * derived from the database's random key (and SIGNING_SECRET when set), so every replica signs
 * alike without configuration; it is read from Postgres once per process.
 */
@Injectable()
export class RecommendationIds {
  private codec: Promise<RecommendationIdCodec> | null = null;

  constructor(
    private readonly erasures: ErasureRepository,
    private readonly env: EnvVars,
  ) {}

  /** RECOMMENDATION_IDS: answers carry one. */
  get enabled(): boolean {
    return this.env.RECOMMENDATION_IDS === 'true';
  }

  async issue(
    surface: RecommendationSurface,
    userId: string | null,
    modelVersion: number | null,
    itemIds: readonly string[],
  ): Promise<string> {
    const issuedAt = Math.floor(Date.now() / 1000);
    return (await this.ready()).sign({ surface, userId, modelVersion, issuedAt }, itemIds);
  }

  /** The claims of a valid id; an ApiError naming the problem otherwise. */
  async verify(token: string): Promise<RecommendationClaims> {
    const codec = await this.ready();
    try {
      return codec.verify(token);
    } catch (err) {
      if (!(err instanceof RecommendationIdError)) throw err;
      const code =
        err.problem === RecommendationIdProblem.Expired
          ? ApiErrorCode.RecommendationIdExpired
          : ApiErrorCode.InvalidRecommendationId;
      throw new ApiError(code, err.message, { field: 'recommendationId' });
    }
  }

  private ready(): Promise<RecommendationIdCodec> {
    if (this.codec) return this.codec;
    const ttl = Math.round(this.env.RECOMMENDATION_ID_TTL_DAYS * DAY_SECONDS);
    this.codec = this.erasures
      .derivedSecret('recommendation-id')
      .then((secret) => new RecommendationIdCodec(secret, ttl));
    // Postgres down at the first answer: asked again next time, not remembered
    this.codec.catch(() => (this.codec = null));
    return this.codec;
  }
}
