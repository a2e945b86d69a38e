import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { CatalogueService } from './catalogue.service';
import { LiveModelService } from './live-model.service';
import { ReadinessController } from './readiness.controller';
import { RecommendationsResolver } from './recommendations.resolver';
import { RecommendationsService } from './recommendations.service';
import { SOURCE_PROVIDERS } from './sources';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule],
  controllers: [ReadinessController],
  providers: [RecommendationsResolver, RecommendationsService, LiveModelService, CatalogueService, ...SOURCE_PROVIDERS],
  exports: [CatalogueService, LiveModelService],
})
export class RecommendationsModule {}
