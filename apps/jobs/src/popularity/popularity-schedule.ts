import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EnvVars } from '@app/config';
import { JobName, JobPayloads, JobSchedule, QueueName } from '@app/queue';

export const POPULARITY_SCHEDULER_ID = 'scheduled-popularity';

type Recount = JobPayloads[JobName.RecountPopularity];

/**
 * Training stores popularity once per model; without this, cold start would rank by counts as
 * old as the last training. POPULARITY_CRON (one scheduler, however many workers) or "off".
 */
@Injectable()
export class PopularitySchedule extends JobSchedule<Recount> {
  constructor(@InjectQueue(QueueName.Popularity) queue: Queue<Recount>, env: EnvVars) {
    super(queue, {
      id: POPULARITY_SCHEDULER_ID,
      pattern: env.POPULARITY_CRON === 'off' ? null : env.POPULARITY_CRON,
      // a recount replaces the last one: keep a few to inspect, never pile them up
      job: {
        name: JobName.RecountPopularity,
        data: { requestedAt: 'schedule' },
        opts: { removeOnComplete: 10, removeOnFail: 50, attempts: 1 },
      },
      doing: 'recounting popularity',
    });
  }
}
