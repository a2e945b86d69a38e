import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EnvVars } from '@app/config';
import { JobName, JobPayloads, logQueueErrors, QueueName, syncJobScheduler } from '@app/queue';

export const POPULARITY_SCHEDULER_ID = 'scheduled-popularity';

/**
 * Training stores popularity once per model; without this, cold start would rank by counts as
 * old as the last training. POPULARITY_CRON (one scheduler, however many workers) or "off".
 */
@Injectable()
export class PopularitySchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(PopularitySchedule.name);

  constructor(
    @InjectQueue(QueueName.Popularity) private readonly queue: Queue<JobPayloads[JobName.RecountPopularity]>,
    private readonly env: EnvVars,
  ) {
    // this module's own instance of the queue (its processor's too)
    logQueueErrors(queue);
  }

  async onApplicationBootstrap(): Promise<void> {
    const pattern = this.env.POPULARITY_CRON === 'off' ? null : this.env.POPULARITY_CRON;
    // a recount replaces the last one: keep a few to inspect, never pile them up
    const template = {
      name: JobName.RecountPopularity,
      data: { requestedAt: 'schedule' },
      opts: { removeOnComplete: 10, removeOnFail: 50, attempts: 1 },
    };
    if (await syncJobScheduler(this.queue, POPULARITY_SCHEDULER_ID, pattern, template))
      this.logger.log(`recounting popularity on schedule "${pattern}"`);
  }
}
