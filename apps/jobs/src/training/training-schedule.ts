import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EnvVars } from '@app/config';
import { JobName, JobPayloads, JobSchedule, QueueName } from '@app/queue';

type Training = JobPayloads[JobName.TrainModel];

/**
 * TRAIN_CRON set: retrain on that schedule (one scheduler, however many workers); unset: none. The
 * schedule's jobs are ticks that enqueue the training as a manual retrain does (a scheduler's own
 * jobs cannot be deduplicated), so a tick during a queued or running training adds none.
 */
@Injectable()
export class TrainingSchedule extends JobSchedule<Training> {
  constructor(@InjectQueue(QueueName.Training) queue: Queue<Training>, env: EnvVars) {
    super(queue, {
      id: 'scheduled-retrain',
      pattern: env.TRAIN_CRON ?? null,
      job: { name: JobName.ScheduledRetrain, data: { config: {}, force: false, requestedAt: 'schedule' } },
      doing: 'retraining',
    });
  }
}
