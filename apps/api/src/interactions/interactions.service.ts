import { Injectable } from '@nestjs/common';
import { InteractionRepository } from '@app/database';
import { InteractionInput } from './dto/interaction.input';
import { RecordInteractionsResult } from './models/record-interactions-result.model';
import { validateInteractions } from './validate-interactions';

@Injectable()
export class InteractionsService {
  constructor(private readonly interactions: InteractionRepository) {}

  /** All or nothing: an invalid event fails the batch before anything is written. */
  async record(input: InteractionInput[]): Promise<RecordInteractionsResult> {
    const batch = validateInteractions(input);
    if (batch.length === 0) return { accepted: 0, duplicates: 0 };
    return this.interactions.recordBatch(batch);
  }
}
