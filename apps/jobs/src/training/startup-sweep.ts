import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { TrainingService } from './training.service';

/**
 * At worker start, when no training runs anywhere: the keys a killed worker left (or that could not be
 * deleted while Redis was down) are swept, and a Redis pointer that diverged from Postgres is repaired.
 */
@Injectable()
export class StartupSweep implements OnApplicationBootstrap {
  private readonly logger = new Logger(StartupSweep.name);

  constructor(private readonly training: TrainingService) {}

  async onApplicationBootstrap(): Promise<void> {
    // the worker starts without it: the sweep after the next training catches up
    await this.training.sweepIfIdle().catch((err) => this.logger.warn(`no sweep at start: ${(err as Error).message}`));
  }
}
