import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ItemAttributes } from '../entities';

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

  /** Every item with its attributes, active flag and popularity, most popular first. */
  all(): Promise<CatalogueItem[]> {
    return this.db.query(
      `SELECT i.external_id AS id, i.attributes, i.active, COALESCE(p.n, 0)::float8 AS interactions
       FROM items i LEFT JOIN (SELECT item_id, count(*) AS n FROM interactions GROUP BY item_id) p ON p.item_id = i.id
       ORDER BY interactions DESC, i.id`,
    );
  }
}
