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
   * Every item with its attributes, active flag and popularity, most popular first, handed to
   * `each` a chunk of `chunkRows` at a time (each chunk read by its own FETCH, so a caller on a
   * request thread can serve between chunks: one read of 1M items parses for ~5 s). Popularity is
   * the last training's count (item_popularity) when `stored` (a non-null fingerprint says so);
   * before any training has counted, it is counted here, as a training counts: POSITIVE events
   * since `since` (the retention window's start; null: all). One snapshot throughout.
   */
  async all(
    stored: boolean,
    since: Date | null,
    each: (rows: CatalogueItem[]) => void | Promise<void>,
    chunkRows = 20_000,
  ): Promise<void> {
    if (!(Number.isSafeInteger(chunkRows) && chunkRows > 0)) throw new RangeError(`not a chunk size: ${chunkRows}`);
    const shared = attributeSets();
    const parsed = (rows: CatalogueItem[]) => {
      for (const row of rows) row.attributes = shared(row.attributes as unknown as string);
      return rows;
    };
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      if (stored) {
        await tx.query(
          `DECLARE catalogue_rows NO SCROLL CURSOR FOR
           SELECT i.external_id AS id, i.attributes::text AS attributes, i.active,
                  COALESCE(p.interactions, 0)::float8 AS interactions
           FROM items i LEFT JOIN item_popularity p ON p.item_id = i.id
           ORDER BY interactions DESC, i.id`,
        );
        for (;;) {
          // FETCH takes no parameters: checked to be an integer above
          const rows: CatalogueItem[] = await tx.query(`FETCH ${chunkRows} FROM catalogue_rows`);
          if (rows.length) await each(parsed(rows));
          if (rows.length < chunkRows) return;
        }
      }
      const counts = await countPositives(tx, since);
      const items: (CatalogueItem & { key: number })[] = await tx.query(
        `SELECT i.id AS key, i.external_id AS id, i.attributes::text AS attributes, i.active FROM items i`,
      );
      for (const item of items) item.interactions = counts.get(item.key) ?? 0;
      items.sort((a, b) => b.interactions - a.interactions || a.key - b.key);
      for (let start = 0; start < items.length; start += chunkRows)
        await each(parsed(items.slice(start, start + chunkRows).map(({ key: _, ...item }) => item)));
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

/** Distinct attribute sets a read of the catalogue shares between items (beyond them, each item has its own). */
const SHARED_ATTRIBUTE_SETS = 4096;

/**
 * Parses an item's attributes (JSON text), items with the same text sharing one frozen object:
 * catalogues repeat a few sets (a category, a brand) over many items, and at 1M items one object
 * each is a million more objects on the request thread's heap for every collection to walk.
 */
function attributeSets(): (text: string) => ItemAttributes {
  const seen = new Map<string, ItemAttributes>();
  return (text) => {
    let attributes = seen.get(text);
    if (!attributes) {
      attributes = Object.freeze(JSON.parse(text) as ItemAttributes);
      if (seen.size < SHARED_ATTRIBUTE_SETS) seen.set(text, attributes);
    }
    return attributes;
  };
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
