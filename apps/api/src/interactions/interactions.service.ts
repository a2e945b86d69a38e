import { Injectable } from '@nestjs/common';
import { EventAttribution, InteractionRepository } from '@app/database';
import { FeedbackRole } from '@app/feedback';
import { ApiError, BadUserInputError } from '../errors/api-error';
import { FeedbackRulesService } from '../feedback/feedback-rules.service';
import { ImpressionBuffer } from '../feedback/impression-buffer';
import { RecommendationIds } from '../feedback/recommendation-ids';
import { InteractionInput } from './dto/interaction.input';
import { RecordInteractionsResult } from './models/record-interactions-result.model';
import { OnlineAttribution } from './online-attribution';
import { StaleFlagsService } from './stale-flags.service';
import { toNewInteractions } from './to-new-interactions';

@Injectable()
export class InteractionsService {
  constructor(
    private readonly interactions: InteractionRepository,
    private readonly staleFlags: StaleFlagsService,
    private readonly feedback: FeedbackRulesService,
    private readonly ids: RecommendationIds,
    private readonly impressions: ImpressionBuffer,
    private readonly online: OnlineAttribution,
  ) {}

  /**
   * All or nothing: an invalid event failed the batch's validation before anything is written. Then the users'
   * cached embeddings are flagged (or the flags owed), so their next answer folds in what they did.
   * IMPRESSION events count as shown, as reportImpressions does.
   */
  async record(input: InteractionInput[]): Promise<RecordInteractionsResult> {
    if (this.feedback.strict) await this.refuseUndeclared(input);
    const attributions = await this.attributions(input);
    const batch = toNewInteractions(input).map((e, i) => ({ ...e, recommendation: attributions[i] }));
    if (batch.length === 0) return { accepted: 0, duplicates: 0 };
    const result = await this.interactions.recordBatch(batch);
    if (result.accepted > 0) await this.staleFlags.flag([...new Set(batch.map((e) => e.userId))]);
    await this.countImpressions(input);
    // a batch stored in part before (a retry after a partial failure) is not counted again
    if (result.duplicates === 0) await this.online.count(input);
    return result;
  }

  /** Strict mode: a type no rule declares fails the batch, naming the first such event. */
  private async refuseUndeclared(input: InteractionInput[]): Promise<void> {
    const rules = await this.feedback.current();
    const index = input.findIndex((e) => !rules.declares(e.type));
    if (index >= 0)
      throw new BadUserInputError(
        `input[${index}].type: "${input[index].type}" is not a declared event type (FEEDBACK_STRICT is on: declare it with setFeedbackType)`,
        { index, field: 'type' },
      );
  }

  /** Each event's recommendationId checked and decoded; an invalid one fails the batch, naming its event. */
  private async attributions(input: InteractionInput[]): Promise<(EventAttribution | null)[]> {
    if (!input.some((e) => e.recommendationId)) return input.map(() => null);
    return Promise.all(
      input.map(async (e, index) => {
        if (!e.recommendationId) return null;
        const claims = await this.ids.verify(e.recommendationId).catch((err: unknown) => {
          if (!(err instanceof ApiError)) throw err;
          throw new ApiError(err.code, `input[${index}].recommendationId: ${err.message}`, {
            index,
            field: 'recommendationId',
          });
        });
        if (claims.userId !== null && claims.userId !== e.userId)
          throw new BadUserInputError(`input[${index}].recommendationId: the answer was for another user`, {
            index,
            field: 'recommendationId',
          });
        return {
          modelVersion: claims.modelVersion,
          surface: claims.surface,
          issuedAt: new Date(claims.issuedAt * 1000),
        };
      }),
    );
  }

  /** IMPRESSION events (by their type's rule) into the impressions' roll-up. */
  private async countImpressions(input: InteractionInput[]): Promise<void> {
    const rules = await this.feedback.current().catch(() => null);
    if (!rules) return;
    for (const e of input)
      if (rules.roleOf(e.type, e.weight) === FeedbackRole.IMPRESSION)
        this.impressions.add(e.userId, [e.itemId], e.occurredAt ?? new Date());
  }
}
