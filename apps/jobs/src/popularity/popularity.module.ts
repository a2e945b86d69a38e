import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { QueueName } from '@app/queue';
import { PopularitySchedule } from './popularity-schedule';
import { RecountPopularityProcessor } from './recount-popularity.processor';

@Module({
  imports: [DatabaseModule, BullModule.registerQueue({ name: QueueName.Popularity })],
  providers: [RecountPopularityProcessor, PopularitySchedule],
})
export class PopularityModule {}
