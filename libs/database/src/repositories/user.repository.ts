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

  /** Erases the user; their interactions go with them (ON DELETE CASCADE). False if there was none. */
  async deleteByExternalId(externalId: string): Promise<boolean> {
    const result = await this.db.getRepository(UserEntity).delete({ externalId });
    return (result.affected ?? 0) > 0;
  }
}
