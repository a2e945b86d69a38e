import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { EventGroup } from '@app/feedback';
import type { DataSnapshot } from '../entities';

export interface NewInteraction {
  userId: string;
  itemId: string;
  type: string;
  weight: number;
  occurredAt: Date | null;
  eventId: string | null;
  /** The answer the event came from, as its recommendationId said; null: none named. */
  recommendation?: EventAttribution | null;
}

/** What an event keeps of the recommendationId it named (12 bytes, none when absent). */
export interface EventAttribution {
  /** The model version that served the answer; null for popularity without a model. */
  modelVersion: number | null;
  /** Which query gave it (libs/feedback RecommendationSurface). */
  surface: number;
  issuedAt: Date;
}

export interface RecordedBatch {
  accepted: number;
  duplicates: number;
}

export interface InteractionRow {
  id: string;
  /** occurred_at in microseconds since the epoch (a JS Date would lose Postgres' precision), as a string. */
  occurredUs: string;
  itemId: string;
  type: string;
  weight: number;
  occurredAt: Date;
  eventId: string | null;
}

export interface HistoryCursor {
  occurredUs: string;
  id: string;
}

@Injectable()
export class InteractionRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Writes a batch in one transaction: unknown users and items are created, events already stored
   * (same event_id, or same user+item+type+instant) are skipped and counted as duplicates.
   */
  recordBatch(batch: NewInteraction[]): Promise<RecordedBatch> {
    return this.db.transaction(async (tx) => {
      await this.ensureExternalIds(
        tx,
        'users',
        batch.map((e) => e.userId),
      );
      await this.ensureExternalIds(
        tx,
        'items',
        batch.map((e) => e.itemId),
      );
      // arrays in, one statement: 10,000 events cost one round trip, not 10,000
      const inserted: unknown[] = await tx.query(
        `INSERT INTO interactions (user_id, item_id, type, weight, occurred_at, event_id,
                                   rec_model_version, rec_surface, rec_issued_at)
         SELECT u.id, i.id, t.type, t.weight, COALESCE(t.occurred_at, clock_timestamp()), t.event_id,
                t.rec_model_version, t.rec_surface, t.rec_issued_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::real[], $5::timestamptz[], $6::text[],
                     $7::int[], $8::smallint[], $9::timestamptz[])
              AS t(user_ext, item_ext, type, weight, occurred_at, event_id, rec_model_version, rec_surface, rec_issued_at)
         JOIN users u ON u.external_id = t.user_ext
         JOIN items i ON i.external_id = t.item_ext
         ON CONFLICT DO NOTHING
         RETURNING 1`,
        [
          batch.map((e) => e.userId),
          batch.map((e) => e.itemId),
          batch.map((e) => e.type),
          batch.map((e) => e.weight),
          batch.map((e) => e.occurredAt),
          batch.map((e) => e.eventId),
          batch.map((e) => e.recommendation?.modelVersion ?? null),
          batch.map((e) => e.recommendation?.surface ?? null),
          batch.map((e) => e.recommendation?.issuedAt ?? null),
        ],
      );
      return { accepted: inserted.length, duplicates: batch.length - inserted.length };
    });
  }

  private async ensureExternalIds(tx: EntityManager, table: 'users' | 'items', ids: string[]): Promise<void> {
    // sorted, so concurrent batches lock new keys in the same order and cannot deadlock
    const unique = [...new Set(ids)].sort();
    await tx.query(
      `INSERT INTO ${table} (external_id) SELECT unnest($1::text[]) ON CONFLICT (external_id) DO NOTHING`,
      [unique],
    );
  }

  /** A user's history, newest first, keyset-paginated. */
  async historyOfUser(userId: number, limit: number, before?: HistoryCursor): Promise<InteractionRow[]> {
    return this.db.query(
      `SELECT x.id, i.external_id AS "itemId", x.type, x.weight, x.occurred_at AS "occurredAt", x.event_id AS "eventId",
              ((extract(epoch FROM x.occurred_at) * 1000000)::bigint)::text AS "occurredUs"
       FROM interactions x JOIN items i ON i.id = x.item_id
       WHERE x.user_id = $1
         AND ($2::bigint IS NULL OR (x.occurred_at, x.id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::bigint))
       ORDER BY x.occurred_at DESC, x.id DESC
       LIMIT $4`,
      [userId, before?.occurredUs ?? null, before?.id ?? null, limit],
    );
  }

  async countOfUser(userId: number): Promise<number> {
    const [row] = await this.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM interactions WHERE user_id = $1`,
      [userId],
    );
    return row.n;
  }

  /**
   * A user's events grouped by item, type and weight, each group's newest time: all that the
   * feedback rules need (an event's role depends on its type and weight only), in one indexed query.
   */
  async eventGroupsOf(externalUserId: string): Promise<EventGroup[]> {
    return this.db.query(
      `SELECT i.external_id AS item, x.type, x.weight AS value, max(x.occurred_at) AS newest
       FROM users u JOIN interactions x ON x.user_id = u.id JOIN items i ON i.id = x.item_id
       WHERE u.external_id = $1
       GROUP BY i.external_id, x.type, x.weight`,
      [externalUserId],
    );
  }

  /**
   * Users with an interaction committed after `snapshot` was taken: recorded by a transaction it saw
   * in flight or that began after it (compared as 32-bit ids, modulo wraparound, as a row's xmin is).
   * Only rows created since `since` are looked at: no transaction in flight at the snapshot may
   * have begun before it (DataSnapshot.openSince), and older xmins could compare wrongly after
   * wraparound.
   */
  async usersRecordedAfter(snapshot: DataSnapshot, since: Date): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT u.external_id AS id FROM users u WHERE u.id IN (
         SELECT DISTINCT user_id FROM interactions
         WHERE created_at >= $1
           AND (xmin::text::bigint = ANY($2::bigint[]) OR ((xmin::text::bigint - $3 + 4294967296) % 4294967296) < 2147483648))`,
      [since, snapshot.inFlight, snapshot.xmax],
    );
    return rows.map((r) => r.id);
  }

  /** Users with an interaction recorded (its transaction's start, `created_at`) at or after `since`. */
  async usersRecordedSince(since: Date): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT u.external_id AS id FROM users u WHERE u.id IN (SELECT DISTINCT user_id FROM interactions WHERE created_at >= $1)`,
      [since],
    );
    return rows.map((r) => r.id);
  }
}
