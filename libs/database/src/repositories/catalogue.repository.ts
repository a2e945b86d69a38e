import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { FeedbackRole } from '@app/feedback';
import { ItemAttributes } from '../entities';
import { ADVISORY_LOCK } from './advisory-locks';
import { FEEDBACK_RULES_SQL, toRules } from './feedback-type.repository';

export interface CatalogueItem {
  id: string;
  attributes: ItemAttributes;
  active: boolean;
  /** Interactions with the item: its popularity. */
  interactions: number;
}

@Injectable()
export class CatalogueRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Every item with its attributes, active flag and popularity, most popular first. Popularity is
   * the last training's count (item_popularity) when `stored` (a non-null fingerprint says so);
   * before any training has counted, it is counted here, as a training counts: POSITIVE events
   * since `since` (the retention window's start; null: all).
   */
  async all(stored: boolean, since: Date | null = null): Promise<CatalogueItem[]> {
    if (stored)
      return this.db.query(
        `SELECT i.external_id AS id, i.attributes, i.active, COALESCE(p.interactions, 0)::float8 AS interactions
         FROM items i LEFT JOIN item_popularity p ON p.item_id = i.id
         ORDER BY interactions DESC, i.id`,
      );
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      const counts = await countPositives(tx, since);
      const items: (CatalogueItem & { key: number })[] = await tx.query(
        `SELECT i.id AS key, i.external_id AS id, i.attributes, i.active FROM items i`,
      );
      for (const item of items) item.interactions = counts.get(item.key) ?? 0;
      items.sort((a, b) => b.interactions - a.interactions || a.key - b.key);
      return items.map(({ key: _, ...item }) => item);
    });
  }

  /**
   * Changes whenever all() would answer differently, for the price of two counts instead of
   * reading every item: item count, newest update, the stored counts' number and total, and the
   * writes to both tables (the statistics collector's counters, which also see an update that
   * kept an older timestamp, within a second or so of its commit).
   * Null while popularity is counted live: then every interaction changes the answer.
   */
  async fingerprint(): Promise<string | null> {
    const [row] = await this.db.query<
      { counted: string | null; items: string; updated: Date | null; writes: string }[]
    >(
      `SELECT (SELECT count(*) || ':' || sum(interactions) FROM item_popularity) AS counted,
              (SELECT count(*) FROM items) AS items,
              (SELECT max(updated_at) FROM items) AS updated,
              (SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables
                WHERE relname IN ('items', 'item_popularity') AND schemaname = current_schema()) AS writes`,
    );
    return row.counted ? `${row.items}:${row.updated?.toISOString()}:${row.counted}:${row.writes}` : null;
  }

  /**
   * Counts every item's POSITIVE events since `since` again (null: all), as training does (rows,
   * duplicates included), and stores what changed: between trainings, cold start follows what
   * users do now. The rules are read just before the events; the write is one statement, so
   * readers see the old counts or the new ones, and an unchanged count is not rewritten (the API's
   * fingerprint then stays put and no server reloads its catalogue for nothing).
   */
  async recountPopularity(since: Date | null = null): Promise<{ items: number; changed: number }> {
    // read committed: a snapshot fixed before the lock was granted would miss the other writer's rows
    return this.db.transaction(async (tx) => {
      await lockPopularity(tx);
      const counts = await countPositives(tx, since);
      const [row] = await tx.query<{ items: number; changed: number }[]>(
        `WITH counted AS (SELECT * FROM unnest($1::int[], $2::float8[]) AS c (item_id, n)),
         upserted AS (
           INSERT INTO item_popularity (item_id, interactions) SELECT item_id, n FROM counted
           ON CONFLICT (item_id) DO UPDATE SET interactions = EXCLUDED.interactions
             WHERE item_popularity.interactions IS DISTINCT FROM EXCLUDED.interactions
           RETURNING 1),
         removed AS (
           DELETE FROM item_popularity p WHERE NOT EXISTS (SELECT 1 FROM counted c WHERE c.item_id = p.item_id)
           RETURNING 1)
         SELECT (SELECT count(*) FROM counted)::int AS items,
                ((SELECT count(*) FROM upserted) + (SELECT count(*) FROM removed))::int AS changed`,
        [[...counts.keys()], [...counts.values()]],
      );
      return row;
    });
  }

  /** Replaces the stored popularity with these counts (items by external id; unknown ids are skipped). */
  async replacePopularity(itemIds: readonly string[], counts: ArrayLike<number>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockPopularity(tx);
      await tx.query(`DELETE FROM item_popularity`);
      await tx.query(
        `INSERT INTO item_popularity (item_id, interactions)
         SELECT i.id, c.n FROM unnest($1::text[], $2::float8[]) AS c (external_id, n) JOIN items i ON i.external_id = c.external_id`,
        [itemIds, Array.from(counts)],
      );
    });
  }
}

/**
 * Each item's (internal id) POSITIVE events since `since`, under the rules stored now. Events are
 * grouped by item and type (and value, for a type whose role depends on it), so the rules' one
 * function decides each group's role and Postgres returns a row per group, not per event.
 */
async function countPositives(tx: EntityManager, since: Date | null): Promise<Map<number, number>> {
  const { rules } = toRules(await tx.query(FEEDBACK_RULES_SQL));
  const groups: { item_id: number; type: string; value: number | null; n: number }[] = await tx.query(
    `SELECT item_id, type, CASE WHEN type = ANY($1::text[]) THEN weight END AS value, count(*)::float8 AS n
     FROM interactions WHERE $2::timestamptz IS NULL OR occurred_at >= $2
     GROUP BY 1, 2, 3`,
    [rules.valueDependentTypes(), since],
  );
  const counts = new Map<number, number>();
  for (const g of groups) {
    if (rules.roleOf(g.type, g.value ?? 1) === FeedbackRole.POSITIVE)
      counts.set(g.item_id, (counts.get(g.item_id) ?? 0) + g.n);
  }
  return counts;
}

/**
 * The two writers of item_popularity (a training's replacement, the scheduled recount) take turns:
 * run at once, the replacement's inserts collide with rows the recount has just upserted.
 */
const lockPopularity = (tx: EntityManager) => tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.popularity]);
