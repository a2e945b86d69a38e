import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { FeedbackModule } from '../feedback/feedback.module';
import { ExposureRule } from '../feedback/exposure.rule';
import { NegativeFeedbackRule } from '../feedback/negative-feedback.rule';
import { CatalogueService } from './catalogue.service';
import { HIDDEN_ITEMS_RULES, HiddenItems, HiddenItemsRule } from './hidden-items';
import { ItemIndexCache } from './item-index-cache';
import { LiveModelService } from './live-model.service';
import { ReadinessController } from './readiness.controller';
import { RecommendationsResolver } from './recommendations.resolver';
import { RecommendationsService } from './recommendations.service';
import { SOURCE_PROVIDERS } from './sources';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule, FeedbackModule],
  controllers: [ReadinessController],
  providers: [
    RecommendationsResolver,
    RecommendationsService,
    LiveModelService,
    ItemIndexCache,
    CatalogueService,
    ...SOURCE_PROVIDERS,
    HiddenItems,
    // every rule that hides items from a user, each a provider of its own
    {
      provide: HIDDEN_ITEMS_RULES,
      useFactory: (...rules: HiddenItemsRule[]) => rules,
      inject: [NegativeFeedbackRule, ExposureRule],
    },
  ],
  exports: [CatalogueService, LiveModelService],
})
export class RecommendationsModule {}
