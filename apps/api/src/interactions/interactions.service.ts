import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InteractionRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { InteractionInput } from './dto/interaction.input';
import { RecordInteractionsResult } from './models/record-interactions-result.model';
import { validateInteractions } from './validate-interactions';

/** How often flags that could not be set (Redis down) are tried again. */
const STALE_RETRY_MS = 2000;
/** Users whose flag is owed, at most: past this, the next retrain is what catches them up. */
const MAX_OWED_FLAGS = 100_000;

@Injectable()
export class InteractionsService implements OnApplicationShutdown {
  private readonly logger = new Logger(InteractionsService.name);
  /** Users who interacted while Redis was unreachable: their cached embeddings still await the flag. */
  private readonly owed = new Set<string>();
  private retry: NodeJS.Timeout | null = null;
  private shutDown = false;

  constructor(
    private readonly interactions: InteractionRepository,
    private readonly embeddings: EmbeddingStoreRepository,
  ) {}

  /** All or nothing: an invalid event fails the batch before anything is written. */
  async record(input: InteractionInput[]): Promise<RecordInteractionsResult> {
    const batch = validateInteractions(input);
    if (batch.length === 0) return { accepted: 0, duplicates: 0 };
    const result = await this.interactions.recordBatch(batch);
    if (result.accepted > 0) await this.markStale([...new Set(batch.map((e) => e.userId))]);
    return result;
  }

  onApplicationShutdown(): void {
    this.shutDown = true;
    if (this.retry) clearTimeout(this.retry);
  }

  // the next recommendation folds these users in with what they just did: the API answers from a
  // cached embedding while it is not flagged, so a flag that cannot be set now is owed and retried
  private async markStale(userIds: readonly string[]): Promise<void> {
    try {
      const version = await this.embeddings.activeVersion();
      if (version !== null) await this.embeddings.markUsersStale(version, userIds);
    } catch (err) {
      for (const id of userIds) if (this.owed.size < MAX_OWED_FLAGS) this.owed.add(id);
      this.logger.warn(`could not flag users stale, ${this.owed.size} owed, retrying: ${(err as Error).message}`);
      if (!this.shutDown) this.retry ??= setTimeout(() => void this.payOwed(), STALE_RETRY_MS).unref();
    }
  }

  private async payOwed(): Promise<void> {
    this.retry = null;
    const ids = [...this.owed];
    this.owed.clear();
    await this.markStale(ids);
  }
}
