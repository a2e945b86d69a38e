import { Logger } from '@nestjs/common';

export interface RollupBufferOptions<T> {
  /** How the buffer's log lines name what it holds and drops: e.g. 'impression rows', 'impressions'. */
  names: { rows: string; dropped: string };
  /** Folds `from` into `into`, both the same key's roll-up (a repeat, or a failed batch put back). */
  merge: (into: T, from: T) => void;
  /** Stores a batch; a throw keeps the batch for the next flush. */
  write: (rows: T[]) => Promise<void>;
  /** After a stored batch; its failure is logged, the batch stays stored. */
  afterWrite?: (rows: T[]) => Promise<void>;
  /** Held rows that start a write at once (default: none, only the timer does). */
  flushRows?: number;
  /** A write starts this long after the first row held since the last one. */
  flushMs: number;
  /** Rows held at most (while Postgres is unreachable); what comes beyond is counted and dropped. */
  maxRows: number;
  logger: Logger;
}

/**
 * Rows rolled up in memory by key as they arrive, written in one statement when `flushRows` are held
 * or `flushMs` has passed, and at a clean stop. One write at a time: the map is swapped out for the
 * write, and a failed write merges its batch back with what came meanwhile and waits for its timer
 * (no loop against a Postgres that is down). A write in progress takes the next batch itself when it
 * ends, so a burst makes one waiting write, not one per call.
 */
export class RollupBuffer<T> {
  private rows = new Map<string, T>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private dropped = 0;
  private readonly flushRows: number;

  constructor(private readonly options: RollupBufferOptions<T>) {
    this.flushRows = options.flushRows ?? Number.POSITIVE_INFINITY;
  }

  /** Folds the row into its key's roll-up; false when the buffer is full and it was dropped (`weight` counts it). */
  add(key: string, row: T, weight = 1): boolean {
    const held = this.rows.get(key);
    let taken = true;
    if (held) this.options.merge(held, row);
    else if (this.rows.size < this.options.maxRows) this.rows.set(key, row);
    else {
      this.dropped += weight;
      taken = false;
    }
    if (this.rows.size >= this.flushRows) {
      if (!this.flushing) void this.flush();
    } else this.armTimer();
    return taken;
  }

  get(key: string): T | undefined {
    return this.rows.get(key);
  }

  /** Drops the held rows the predicate picks (written ones are the store's). */
  deleteWhere(picked: (row: T) => boolean): void {
    for (const [key, row] of this.rows) if (picked(row)) this.rows.delete(key);
  }

  /** Rows held, not yet written. */
  get held(): number {
    return this.rows.size;
  }

  /** Writes what is held; a call during a write waits for it, then writes what came since. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.cancelTimer();
    if (this.rows.size === 0) return;
    const batch = this.rows;
    this.rows = new Map();
    let written = false;
    this.flushing = this.write(batch)
      .then((ok) => void (written = ok))
      .finally(() => (this.flushing = null));
    await this.flushing;
    if (written && this.rows.size >= this.flushRows) void this.flush();
  }

  /** Stops the timer and writes what is held: before the connections close, so a clean stop loses nothing. */
  async stop(): Promise<void> {
    this.cancelTimer();
    await this.flush();
  }

  private async write(batch: Map<string, T>): Promise<boolean> {
    const rows = [...batch.values()];
    const { names, logger } = this.options;
    try {
      await this.options.write(rows);
    } catch (err) {
      logger.warn(`${rows.length} ${names.rows} not written, kept for the next flush: ${(err as Error).message}`);
      for (const [key, row] of batch) {
        const newer = this.rows.get(key);
        if (newer) this.options.merge(newer, row);
        else this.rows.set(key, row);
      }
      this.armTimer();
      return false;
    }
    if (this.dropped) {
      logger.warn(`${this.dropped} ${names.dropped} dropped while Postgres was unreachable (the buffer was full)`);
      this.dropped = 0;
    }
    await this.options.afterWrite?.(rows).catch((err: Error) => logger.warn(err.message));
    return true;
  }

  private armTimer(): void {
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
