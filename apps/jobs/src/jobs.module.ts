import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { HealthModule } from '@app/health';
import { QueueModule } from '@app/queue';
import { RedisModule } from '@app/redis';
import { ExportModule } from './export/export.module';
import { PopularityModule } from './popularity/popularity.module';
import { TrainingModule } from './training/training.module';

/** The worker process: BullMQ processors (training, export, popularity recounts) and a small HTTP port for /health and /metrics. */
@Module({
  imports: [
    ConfigModule,
    RedisModule,
    DatabaseModule,
    QueueModule,
    HealthModule,
    TrainingModule,
    ExportModule,
    PopularityModule,
  ],
})
export class JobsModule {}
