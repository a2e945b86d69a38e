import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EnvVars } from '@app/config';
import { JobName, JobPayloads, logQueueErrors, QueueName, syncJobScheduler } from '@app/queue';

const SCHEDULER_ID = 'scheduled-retrain';

/**
 * TRAIN_CRON set: retrain on that schedule (one scheduler, however many workers); unset: none. The
 * schedule's jobs are ticks that enqueue the training as a manual retrain does (a scheduler's own
 * jobs cannot be deduplicated), so a tick during a queued or running training adds none.
 */
@Injectable()
export class TrainingSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(TrainingSchedule.name);

  constructor(
    @InjectQueue(QueueName.Training) private readonly queue: Queue<JobPayloads[JobName.TrainModel]>,
    private readonly env: EnvVars,
  ) {
    // this module's own instance of the queue (its processor's too)
    logQueueErrors(queue);
  }

  async onApplicationBootstrap(): Promise<void> {
    const template = { name: JobName.ScheduledRetrain, data: { config: {}, force: false, requestedAt: 'schedule' } };
    if (await syncJobScheduler(this.queue, SCHEDULER_ID, this.env.TRAIN_CRON ?? null, template))
      this.logger.log(`retraining on schedule "${this.env.TRAIN_CRON}"`);
  }
}
