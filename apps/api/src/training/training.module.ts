import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { QueueModule } from '@app/queue';
import { RegistryModule } from '@app/registry';
import { TrainingResolver } from './training.resolver';
import { ExperimentsService } from './experiments.service';
import { TrainingService } from './training.service';

@Module({
  imports: [DatabaseModule, QueueModule, RegistryModule],
  providers: [TrainingResolver, TrainingService, ExperimentsService],
})
export class TrainingModule {}
