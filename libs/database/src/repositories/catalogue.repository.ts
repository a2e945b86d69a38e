import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ItemAttributes } from '../entities';
import { ADVISORY_LOCK } from './advisory-locks';

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
   * before any training has counted, it is counted here, over every interaction.
   */
  all(stored: boolean): Promise<CatalogueItem[]> {
    const popularity = stored
      ? `item_popularity`
      : `(SELECT item_id, count(*) AS interactions FROM interactions GROUP BY item_id)`;
    return this.db.query(
      `SELECT i.external_id AS id, i.attributes, i.active, COALESCE(p.interactions, 0)::float8 AS interactions
       FROM items i LEFT JOIN ${popularity} p ON p.item_id = i.id
       ORDER BY interactions DESC, i.id`,
    );
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
   * Counts every item's interactions again, as training does (rows, duplicates included), and
   * stores what changed: between trainings, cold start follows what users do now. One statement,
   * so readers see the old counts or the new ones, and an unchanged count is not rewritten (the
   * API's fingerprint then stays put and no server reloads its catalogue for nothing).
   */
  async recountPopularity(): Promise<{ items: number; changed: number }> {
    return this.db.transaction(async (tx) => {
      await lockPopularity(tx);
      const [row] = await tx.query<{ items: number; changed: number }[]>(
        `WITH counted AS (SELECT item_id, count(*)::float8 AS n FROM interactions GROUP BY item_id),
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
 * The two writers of item_popularity (a training's replacement, the scheduled recount) take turns:
 * run at once, the replacement's inserts collide with rows the recount has just upserted.
 */
const lockPopularity = (tx: EntityManager) => tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.popularity]);
