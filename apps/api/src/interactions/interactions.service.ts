import { Injectable, Logger } from '@nestjs/common';
import { InteractionRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { InteractionInput } from './dto/interaction.input';
import { RecordInteractionsResult } from './models/record-interactions-result.model';
import { validateInteractions } from './validate-interactions';

@Injectable()
export class InteractionsService {
  private readonly logger = new Logger(InteractionsService.name);

  constructor(
    private readonly interactions: InteractionRepository,
    private readonly embeddings: EmbeddingStoreRepository,
  ) {}

  /** All or nothing: an invalid event fails the batch before anything is written. */
  async record(input: InteractionInput[]): Promise<RecordInteractionsResult> {
    const batch = validateInteractions(input);
    if (batch.length === 0) return { accepted: 0, duplicates: 0 };
    const result = await this.interactions.recordBatch(batch);
    if (result.accepted > 0) await this.markStale(new Set(batch.map((e) => e.userId)));
    return result;
  }

  // the next recommendation folds these users in with what they just did; best effort: the
  // interactions are stored, and a model's watermark catches what a Redis outage lets through
  private async markStale(userIds: Set<string>): Promise<void> {
    try {
      const version = await this.embeddings.activeVersion();
      if (version !== null) await this.embeddings.markUsersStale(version, userIds);
    } catch (err) {
      this.logger.warn(`could not mark ${userIds.size} users stale: ${(err as Error).message}`);
    }
  }
}
