import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface StoreStats {
  users: number;
  items: number;
  interactions: number;
  newestInteractionAt: Date | null;
}

@Injectable()
export class StatsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async storeStats(): Promise<StoreStats> {
    const [row] = await this.db.query<StoreStats[]>(
      `SELECT (SELECT count(*) FROM users)::float8 AS users,
              (SELECT count(*) FROM items)::float8 AS items,
              (SELECT count(*) FROM interactions)::float8 AS interactions,
              (SELECT max(occurred_at) FROM interactions) AS "newestInteractionAt"`,
    );
    return row;
  }
}
