import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { ImpressionRepository, ImpressionRollup, weekOf } from '@app/database';
import { RollupBuffer } from './rollup-buffer';

const DAY_MS = 86_400_000;
/** Partitions are made this far ahead, and old ones dropped, this often. */
const PARTITIONS_AHEAD_DAYS = 62;
const MAINTENANCE_MS = 6 * 3_600_000;
/** While Postgres is unreachable, at most this many flushes' rows are held; newer ones are dropped (and logged). */
const HELD_FLUSHES = 20;

/** Told the (user, item) pairs of every flush once they are stored: exposure refreshes those users' state. */
export type FlushListener = (pairs: { userId: string; itemId: string }[]) => Promise<void>;

/**
 * Impressions in memory, rolled up per (user, item, week) as they arrive, written to Postgres in
 * one statement when IMPRESSIONS_FLUSH_ROWS rows are held or IMPRESSIONS_FLUSH_MS has passed,
 * and at a clean stop (before the connections close). A failed write keeps its rows for the next.
 */
@Injectable()
export class ImpressionBuffer implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(ImpressionBuffer.name);
  private readonly rows: RollupBuffer<ImpressionRollup>;
  private maintenance: NodeJS.Timeout | null = null;
  private listener: FlushListener | null = null;

  constructor(
    private readonly repository: ImpressionRepository,
    private readonly env: EnvVars,
  ) {
    this.rows = new RollupBuffer<ImpressionRollup>({
      names: { rows: 'impression rows', dropped: 'impressions' },
      merge: (into, from) => {
        into.shows += from.shows;
        if (from.firstShown < into.firstShown) into.firstShown = from.firstShown;
        if (from.lastShown > into.lastShown) into.lastShown = from.lastShown;
      },
      write: (rows) => repository.add(rows),
      afterWrite: (rows) =>
        (this.listener?.(rows.map((r) => ({ userId: r.userId, itemId: r.itemId }))) ?? Promise.resolve()).catch(
          (err: Error) => this.logger.warn(`exposure not refreshed after a flush: ${err.message}`),
        ),
      flushRows: env.IMPRESSIONS_FLUSH_ROWS,
      flushMs: env.IMPRESSIONS_FLUSH_MS,
      maxRows: env.IMPRESSIONS_FLUSH_ROWS * HELD_FLUSHES,
      logger: this.logger,
    });
  }

  onModuleInit(): void {
    void this.maintain();
    this.maintenance = setInterval(() => void this.maintain(), MAINTENANCE_MS);
    this.maintenance.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.maintenance) clearInterval(this.maintenance);
    await this.rows.stop();
  }

  onFlush(listener: FlushListener): void {
    this.listener = listener;
  }

  /** Counts one show of each item to the user at `at`; returns how many were taken (none older than the retention). */
  add(userId: string, itemIds: readonly string[], at: Date): number {
    if (at.getTime() < Date.now() - this.env.IMPRESSIONS_RETENTION_DAYS * DAY_MS) return 0;
    const week = weekOf(at);
    let taken = 0;
    for (const itemId of itemIds) {
      const row = { userId, itemId, week, shows: 1, firstShown: at, lastShown: at };
      if (this.rows.add(rowKey(userId, itemId, week), row)) taken++;
    }
    return taken;
  }

  /** Drops what is held of an erased user (another process's rows are its own). */
  forget(userId: string): void {
    this.rows.deleteWhere((row) => row.userId === userId);
  }

  /** Whether a held (not yet written) row may hold a show of the item to the user between `from` and `to`. */
  holdsShow(userId: string, itemId: string, from: Date, to: Date): boolean {
    for (const week of new Set([weekOf(from), weekOf(to)])) {
      const row = this.rows.get(rowKey(userId, itemId, week));
      if (row && row.firstShown <= to && row.lastShown >= from) return true;
    }
    return false;
  }

  /** Rows held, not yet written. */
  get held(): number {
    return this.rows.held;
  }

  /** Writes what is held; one write at a time (a call during one waits for it, then writes what came since). */
  flush(): Promise<void> {
    return this.rows.flush();
  }

  /** Partitions for the coming months, and the retention's drop of old ones. */
  private async maintain(): Promise<void> {
    const now = Date.now();
    try {
      const weeks = [0, 31, PARTITIONS_AHEAD_DAYS].map((days) => weekOf(new Date(now + days * DAY_MS)));
      await this.repository.ensurePartitions(weeks);
      const dropped = await this.repository.dropBefore(new Date(now - this.env.IMPRESSIONS_RETENTION_DAYS * DAY_MS));
      if (dropped.length) this.logger.log(`impressions past the retention dropped: ${dropped.join(', ')}`);
    } catch (err) {
      this.logger.warn(`impression partitions not maintained: ${(err as Error).message}`);
    }
  }
}

function rowKey(userId: string, itemId: string, week: string): string {
  return `${userId}\u0000${itemId}\u0000${week}`;
}
