import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { UserEntity } from '../entities';

@Injectable()
export class UserRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  findByExternalId(externalId: string): Promise<UserEntity | null> {
    return this.db.getRepository(UserEntity).findOneBy({ externalId });
  }

  /** Users in the order they were created, `limit` after internal id `after` (keyset, as ItemRepository's page). */
  pageInCreationOrder(after: number, limit: number): Promise<Array<{ id: number; externalId: string }>> {
    return this.db.query(`SELECT id, external_id AS "externalId" FROM users WHERE id > $1 ORDER BY id LIMIT $2`, [
      after,
      limit,
    ]);
  }
}
