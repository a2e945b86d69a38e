import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { RecommendationsModule } from '../recommendations/recommendations.module';
import { ItemsResolver } from './items.resolver';
import { ItemsService } from './items.service';

@Module({
  imports: [DatabaseModule, RecommendationsModule],
  providers: [ItemsResolver, ItemsService],
})
export class ItemsModule {}
