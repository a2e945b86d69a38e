import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { QueueName } from '@app/queue';
import { RegistryModule } from '@app/registry';
import { LiveModelGate } from './live-model-gate';
import { StartupSweep } from './startup-sweep';
import { TrainModelProcessor } from './train-model.processor';
import { TrainingSchedule } from './training-schedule';
import { TrainingService } from './training.service';

@Module({
  imports: [DatabaseModule, RegistryModule, BullModule.registerQueue({ name: QueueName.Training })],
  providers: [TrainModelProcessor, TrainingService, TrainingSchedule, StartupSweep, LiveModelGate],
})
export class TrainingModule {}
