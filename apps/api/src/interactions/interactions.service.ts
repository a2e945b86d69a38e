import { Injectable } from '@nestjs/common';
import { InteractionRepository } from '@app/database';
import { BadUserInputError } from '../errors/api-error';
import { FeedbackRulesService } from '../feedback/feedback-rules.service';
import { InteractionInput } from './dto/interaction.input';
import { RecordInteractionsResult } from './models/record-interactions-result.model';
import { StaleFlagsService } from './stale-flags.service';
import { toNewInteractions } from './to-new-interactions';

@Injectable()
export class InteractionsService {
  constructor(
    private readonly interactions: InteractionRepository,
    private readonly staleFlags: StaleFlagsService,
    private readonly feedback: FeedbackRulesService,
  ) {}

  /**
   * All or nothing: an invalid event failed the batch's validation before anything is written. Then the users'
   * cached embeddings are flagged (or the flags owed), so their next answer folds in what they did.
   */
  async record(input: InteractionInput[]): Promise<RecordInteractionsResult> {
    if (this.feedback.strict) await this.refuseUndeclared(input);
    const batch = toNewInteractions(input);
    if (batch.length === 0) return { accepted: 0, duplicates: 0 };
    const result = await this.interactions.recordBatch(batch);
    if (result.accepted > 0) await this.staleFlags.flag([...new Set(batch.map((e) => e.userId))]);
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
}
