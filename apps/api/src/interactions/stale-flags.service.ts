import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { OwedStaleFlagRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';

/** How soon owed flags are tried again after Redis (or Postgres) failed. */
const RETRY_MS = 2000;
/** How often owed flags are looked for: another instance's, a bulk import's, a stopped process's. */
const SWEEP_MS = 30_000;
/** Owed flags set per round. */
const PAGE = 1000;

/**
 * The stale flags that make the next recommendation fold a user in. The API answers from a cached
 * embedding while it is not flagged, so a flag that cannot be set (Redis unreachable) is owed in
 * Postgres, beside the interactions that caused it, and set by whichever instance gets to it
 * first: at start, soon after a failure, and on a slow sweep.
 */
@Injectable()
export class StaleFlagsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(StaleFlagsService.name);
  private timer: NodeJS.Timeout | null = null;
  private nextAt = Infinity;
  private paying: Promise<void> | null = null;
  private failing = false;
  private shutDown = false;

  constructor(
    private readonly embeddings: EmbeddingStoreRepository,
    private readonly owed: OwedStaleFlagRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  // the first hook of a shutdown: no payment starts while the connections close
  onModuleDestroy(): void {
    this.shutDown = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Flags the users now or, when Redis is unreachable, owes their flags (never throws). */
  async flag(userIds: readonly string[]): Promise<void> {
    try {
      await this.embeddings.markActiveUsersStale(userIds);
    } catch (err) {
      try {
        await this.owed.owe(userIds);
        this.logger.warn(
          `could not flag ${userIds.length} users stale, owed until Redis answers: ${(err as Error).message}`,
        );
        this.schedule(RETRY_MS);
      } catch (pgErr) {
        this.logger.error(
          `lost ${userIds.length} stale flags (Redis: ${(err as Error).message}; Postgres: ${(pgErr as Error).message}): these users are answered from their cached embeddings until the next retrain`,
        );
      }
    }
  }

  /** Sets every owed flag, oldest first, and forgets each once set; one payment at a time. */
  pay(): Promise<void> {
    this.paying ??= this.payAll().finally(() => (this.paying = null));
    return this.paying;
  }

  private async payAll(): Promise<void> {
    for (;;) {
      const page = await this.owed.oldest(PAGE);
      if (page.userIds.length === 0) return;
      await this.embeddings.markActiveUsersStale(page.userIds);
      await this.owed.settle(page);
      if (page.userIds.length < PAGE) return;
    }
  }

  private schedule(ms: number): void {
    if (this.shutDown) return;
    const at = Date.now() + ms;
    if (this.timer && this.nextAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = at;
    this.timer = setTimeout(() => void this.tick(), ms).unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    this.nextAt = Infinity;
    try {
      await this.pay();
      if (this.failing) this.logger.log('owed stale flags are set');
      this.failing = false;
      this.schedule(SWEEP_MS);
    } catch (err) {
      // one warning per outage, not one per retry
      if (!this.failing)
        this.logger.warn(
          `owed stale flags not set yet, retrying every ${RETRY_MS / 1000} s: ${(err as Error).message}`,
        );
      this.failing = true;
      this.schedule(RETRY_MS);
    }
  }
}
