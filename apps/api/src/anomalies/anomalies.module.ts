import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { FeedbackModule } from '../feedback/feedback.module';
import { RecommendationsModule } from '../recommendations/recommendations.module';
import { AnomaliesResolver } from './anomalies.resolver';
import { AnomaliesService } from './anomalies.service';

@Module({
  imports: [DatabaseModule, FeedbackModule, RecommendationsModule],
  providers: [AnomaliesResolver, AnomaliesService],
})
export class AnomaliesModule {}
