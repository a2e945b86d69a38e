import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { FeedbackModule } from '../feedback/feedback.module';
import { RecommendationsModule } from '../recommendations/recommendations.module';
import { InteractionsResolver } from './interactions.resolver';
import { InteractionsService } from './interactions.service';
import { OnlineAttribution } from './online-attribution';
import { StaleFlagsService } from './stale-flags.service';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule, FeedbackModule, RecommendationsModule],
  providers: [InteractionsResolver, InteractionsService, StaleFlagsService, OnlineAttribution],
})
export class InteractionsModule {}
