import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EnvVars } from '@app/config';
import { JobName, JobPayloads, QueueName } from '@app/queue';

const SCHEDULER_ID = 'scheduled-retrain';

/** TRAIN_CRON set: retrain on that schedule (one scheduler, however many workers); unset: none. */
@Injectable()
export class TrainingSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(TrainingSchedule.name);

  constructor(
    @InjectQueue(QueueName.Training) private readonly queue: Queue<JobPayloads[JobName.TrainModel]>,
    private readonly env: EnvVars,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.TRAIN_CRON) {
      await this.queue.removeJobScheduler(SCHEDULER_ID);
      return;
    }
    await this.queue.upsertJobScheduler(SCHEDULER_ID, { pattern: this.env.TRAIN_CRON }, {
      name: JobName.TrainModel,
      data: { config: {}, force: false, requestedAt: 'schedule' },
    });
    this.logger.log(`retraining on schedule "${this.env.TRAIN_CRON}"`);
  }
}
