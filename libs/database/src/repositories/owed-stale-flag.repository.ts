import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Users per statement: arrays in, one statement each. */
const OWE_BATCH = 10_000;

/** A page of owed flags, and the time that settling them must not reach past. */
export interface OwedFlags {
  userIds: string[];
  /**
   * The newest debt in the page, as Postgres wrote it (text: a Date would drop the microseconds,
   * and the newest row would never match again); one owed again after it stays owed.
   */
  upTo: string | null;
}

/** Stale flags owed to Redis (it was unreachable when they were due), oldest first. */
@Injectable()
export class OwedStaleFlagRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Owes the users' flags; a user already owed is owed from now, so a payment in flight keeps it. */
  async owe(userIds: readonly string[]): Promise<void> {
    const unique = [...new Set(userIds)];
    for (let start = 0; start < unique.length; start += OWE_BATCH) {
      await this.db.query(
        `INSERT INTO stale_flags_owed (user_id) SELECT unnest($1::text[])
         ON CONFLICT (user_id) DO UPDATE SET owed_since = clock_timestamp()`,
        [unique.slice(start, start + OWE_BATCH)],
      );
    }
  }

  async oldest(limit: number): Promise<OwedFlags> {
    const rows: { user_id: string; owed_since: string }[] = await this.db.query(
      `SELECT user_id, owed_since::text FROM stale_flags_owed ORDER BY owed_since, user_id LIMIT $1`,
      [limit],
    );
    return { userIds: rows.map((r) => r.user_id), upTo: rows.at(-1)?.owed_since ?? null };
  }

  /** Forgets the page's debts once their flags are set, except those owed again since. */
  async settle(page: OwedFlags): Promise<void> {
    if (page.userIds.length === 0) return;
    await this.db.query(
      `DELETE FROM stale_flags_owed WHERE user_id = ANY($1::text[]) AND owed_since <= $2::timestamptz`,
      [page.userIds, page.upTo],
    );
  }
}
