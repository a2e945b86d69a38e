import { Injectable } from '@nestjs/common';
import { BadUserInputError } from '../errors/api-error';
import { NO_MODEL_VERSION } from '@app/feedback';
import { ImpressionBuffer } from './impression-buffer';
import { OnlineMetricsBuffer } from './online-metrics-buffer';
import { RecommendationIds } from './recommendation-ids';

/** Impressions a client reports against an answer it was given. */
@Injectable()
export class ImpressionsService {
  constructor(
    private readonly ids: RecommendationIds,
    private readonly buffer: ImpressionBuffer,
    private readonly online: OnlineMetricsBuffer,
  ) {}

  /**
   * Counts the items as shown to the answer's user, now. Every item must be of that answer (its id
   * says which were), or nothing is counted.
   */
  async report(recommendationId: string, itemIds: readonly string[]): Promise<number> {
    const claims = await this.ids.verify(recommendationId);
    const index = itemIds.findIndex((id) => !claims.items.has(id));
    if (index >= 0)
      throw new BadUserInputError(`itemIds[${index}]: "${itemIds[index]}" was not in that answer`, {
        index,
        field: 'itemIds',
      });
    const unique = [...new Set(itemIds)];
    // online metrics count anonymous answers' impressions too (by the answer, in no user's roll-up)
    this.online.impressions(claims.modelVersion ?? NO_MODEL_VERSION, claims.userId ?? recommendationId, unique.length);
    if (claims.userId === null) return 0;
    return this.buffer.add(claims.userId, unique, new Date());
  }
}
