import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { FeedbackModule } from '../feedback/feedback.module';
import { InteractionsResolver } from './interactions.resolver';
import { InteractionsService } from './interactions.service';
import { StaleFlagsService } from './stale-flags.service';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule, FeedbackModule],
  providers: [InteractionsResolver, InteractionsService, StaleFlagsService],
})
export class InteractionsModule {}
