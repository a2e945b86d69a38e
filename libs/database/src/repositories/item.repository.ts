import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ItemAttributes, ItemEntity } from '../entities';

export interface ItemUpsert {
  externalId: string;
  /** Undefined keeps what is stored (or {} for a new item). */
  attributes?: ItemAttributes;
  active?: boolean;
}

@Injectable()
export class ItemRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  findByExternalId(externalId: string): Promise<ItemEntity | null> {
    return this.db.getRepository(ItemEntity).findOneBy({ externalId });
  }

  /** Items in the order they were created, `limit` after internal id `after`: a keyset page that never skips or repeats one. */
  pageInCreationOrder(
    after: number,
    limit: number,
  ): Promise<Array<{ id: number; externalId: string; attributes: ItemAttributes }>> {
    return this.db.query(
      `SELECT id, external_id AS "externalId", attributes FROM items WHERE id > $1 ORDER BY id LIMIT $2`,
      [after, limit],
    );
  }

  /** Creates or updates items in one transaction; returns them in input order. Ids must be unique. */
  upsert(items: ItemUpsert[]): Promise<ItemEntity[]> {
    const params = [
      items.map((i) => i.externalId),
      items.map((i) => (i.attributes === undefined ? null : JSON.stringify(i.attributes))),
      items.map((i) => i.active ?? null),
    ];
    const input = `unnest($1::text[], $2::jsonb[], $3::boolean[]) AS t(external_id, attributes, active)`;
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO items (external_id, attributes, active)
         SELECT external_id, COALESCE(attributes, '{}'::jsonb), COALESCE(active, true) FROM ${input}
         ON CONFLICT (external_id) DO NOTHING`,
        params,
      );
      // a field left out keeps its stored value
      const rows: ItemEntity[] = await tx.query(
        // wrapped in a CTE so the driver returns rows (a bare UPDATE comes back as [rows, count])
        `WITH updated AS (
         UPDATE items SET attributes = COALESCE(t.attributes, items.attributes),
                          active = COALESCE(t.active, items.active),
                          updated_at = now()
         FROM ${input}
         WHERE items.external_id = t.external_id
         RETURNING items.id, items.external_id AS "externalId", items.attributes, items.active,
                   items.created_at AS "createdAt", items.updated_at AS "updatedAt")
         SELECT * FROM updated`,
        params,
      );
      const byId = new Map(rows.map((r) => [r.externalId, r]));
      return items.map((i) => byId.get(i.externalId)!);
    });
  }
}
