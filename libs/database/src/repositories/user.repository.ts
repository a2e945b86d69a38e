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
}
