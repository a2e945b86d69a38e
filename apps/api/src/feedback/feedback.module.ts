import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { FeedbackRulesService } from './feedback-rules.service';
import { FeedbackTypesResolver } from './feedback-types.resolver';
import { NegativeFeedbackRule } from './negative-feedback.rule';
import { RecommendationIds } from './recommendation-ids';
import { ImpressionBuffer } from './impression-buffer';
import { OnlineMetricsBuffer } from './online-metrics-buffer';
import { OnlineMetricsResolver } from './online-metrics.resolver';
import { OnlineMetricsService } from './online-metrics.service';
import { ExposureRule } from './exposure.rule';
import { FeedbackStates } from './feedback-states.service';
import { ImpressionsResolver } from './impressions.resolver';
import { ImpressionsService } from './impressions.service';
import { UserFeedbackReader } from './user-feedback.reader';

/** Event types' rules (admin), and what a user's feedback means to every answer. */
@Module({
  imports: [DatabaseModule, EmbeddingStoreModule],
  providers: [
    FeedbackRulesService,
    FeedbackTypesResolver,
    UserFeedbackReader,
    NegativeFeedbackRule,
    RecommendationIds,
    ImpressionBuffer,
    OnlineMetricsBuffer,
    OnlineMetricsService,
    OnlineMetricsResolver,
    ImpressionsService,
    ImpressionsResolver,
    FeedbackStates,
    ExposureRule,
  ],
  exports: [
    FeedbackRulesService,
    UserFeedbackReader,
    NegativeFeedbackRule,
    ExposureRule,
    FeedbackStates,
    RecommendationIds,
    ImpressionBuffer,
    OnlineMetricsBuffer,
  ],
})
export class FeedbackModule {}
