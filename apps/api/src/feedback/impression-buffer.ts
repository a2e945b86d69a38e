import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { ImpressionRepository, ImpressionRollup, weekOf } from '@app/database';

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
  private rows = new Map<string, ImpressionRollup>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private maintenance: NodeJS.Timeout | null = null;
  private dropped = 0;
  private listener: FlushListener | null = null;

  constructor(
    private readonly repository: ImpressionRepository,
    private readonly env: EnvVars,
  ) {}

  onModuleInit(): void {
    void this.maintain();
    this.maintenance = setInterval(() => void this.maintain(), MAINTENANCE_MS);
    this.maintenance.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.maintenance) clearInterval(this.maintenance);
    if (this.timer) clearTimeout(this.timer);
    // what is held is written before the connections close: a clean stop loses nothing
    await this.flush();
  }

  onFlush(listener: FlushListener): void {
    this.listener = listener;
  }

  /** Counts one show of each item to the user at `at`; returns how many were taken (none older than the retention). */
  add(userId: string, itemIds: readonly string[], at: Date): number {
    if (at.getTime() < Date.now() - this.env.IMPRESSIONS_RETENTION_DAYS * DAY_MS) return 0;
    const week = weekOf(at);
    const limit = this.env.IMPRESSIONS_FLUSH_ROWS * HELD_FLUSHES;
    let taken = 0;
    for (const itemId of itemIds) {
      const key = `${userId}\u0000${itemId}\u0000${week}`;
      const row = this.rows.get(key);
      if (row) {
        row.shows++;
        if (at < row.firstShown) row.firstShown = at;
        if (at > row.lastShown) row.lastShown = at;
      } else if (this.rows.size < limit) {
        this.rows.set(key, { userId, itemId, week, shows: 1, firstShown: at, lastShown: at });
      } else {
        this.dropped++;
        continue;
      }
      taken++;
    }
    // a write under way takes the next batch itself when it ends: one waiting write, not one per call
    if (this.rows.size >= this.env.IMPRESSIONS_FLUSH_ROWS) {
      if (!this.flushing) void this.flush();
    } else this.timer ??= setTimeout(() => void this.flush(), this.env.IMPRESSIONS_FLUSH_MS);
    return taken;
  }

  /** Drops what is held of an erased user (another process's rows are its own). */
  forget(userId: string): void {
    for (const [key, row] of this.rows) if (row.userId === userId) this.rows.delete(key);
  }

  /** Whether a held (not yet written) row may hold a show of the item to the user between `from` and `to`. */
  holdsShow(userId: string, itemId: string, from: Date, to: Date): boolean {
    for (const week of new Set([weekOf(from), weekOf(to)])) {
      const row = this.rows.get(`${userId}\u0000${itemId}\u0000${week}`);
      if (row && row.firstShown <= to && row.lastShown >= from) return true;
    }
    return false;
  }

  /** Rows held, not yet written. */
  get held(): number {
    return this.rows.size;
  }

  /** Writes what is held; one write at a time (a call during one waits for it, then writes what came since). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.rows.size === 0) return;
    const batch = this.rows;
    this.rows = new Map();
    let written = false;
    this.flushing = this.write(batch)
      .then((ok) => void (written = ok))
      .finally(() => (this.flushing = null));
    await this.flushing;
    // a failed write waits for its timer: no loop against a Postgres that is down
    if (written && this.rows.size >= this.env.IMPRESSIONS_FLUSH_ROWS) void this.flush();
  }

  private async write(batch: Map<string, ImpressionRollup>): Promise<boolean> {
    const rows = [...batch.values()];
    try {
      await this.repository.add(rows);
    } catch (err) {
      this.logger.warn(
        `${rows.length} impression rows not written, kept for the next flush: ${(err as Error).message}`,
      );
      this.putBack(batch);
      this.timer ??= setTimeout(() => void this.flush(), this.env.IMPRESSIONS_FLUSH_MS);
      return false;
    }
    if (this.dropped) {
      this.logger.warn(`${this.dropped} impressions dropped while Postgres was unreachable (the buffer was full)`);
      this.dropped = 0;
    }
    await this.listener?.(rows.map((r) => ({ userId: r.userId, itemId: r.itemId }))).catch((err: Error) =>
      this.logger.warn(`exposure not refreshed after a flush: ${err.message}`),
    );
    return true;
  }

  /** A failed batch's rows merged back with what came meanwhile. */
  private putBack(batch: Map<string, ImpressionRollup>): void {
    for (const [key, row] of batch) {
      const newer = this.rows.get(key);
      if (!newer) this.rows.set(key, row);
      else {
        newer.shows += row.shows;
        if (row.firstShown < newer.firstShown) newer.firstShown = row.firstShown;
        if (row.lastShown > newer.lastShown) newer.lastShown = row.lastShown;
      }
    }
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
