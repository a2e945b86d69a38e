import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { ExportsModule } from '../exports/exports.module';
import { UsersResolver } from './users.resolver';
import { UsersService } from './users.service';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule, ExportsModule],
  providers: [UsersResolver, UsersService],
})
export class UsersModule {}
