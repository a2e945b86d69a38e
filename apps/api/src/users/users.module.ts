import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { FeedbackModule } from '../feedback/feedback.module';
import { ExportsModule } from '../exports/exports.module';
import { UsersResolver } from './users.resolver';
import { UsersService } from './users.service';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule, FeedbackModule, ExportsModule],
  providers: [UsersResolver, UsersService],
})
export class UsersModule {}
