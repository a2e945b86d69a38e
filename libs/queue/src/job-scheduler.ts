import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { JobSchedulerTemplateOptions, Queue } from 'bullmq';
import { logQueueErrors } from './queue-errors';

/** The job a scheduler adds at each tick. */
export interface ScheduledJob<Data> {
  name: string;
  data: Data;
  opts?: JobSchedulerTemplateOptions;
}

/**
 * Makes the queue's scheduler `id` match the configuration: upserted with `pattern` (one
 * scheduler, however many workers start), or removed when there is none (a schedule switched
 * off must not keep firing from Redis). True when a schedule is set.
 */
async function syncJobScheduler<Data>(
  queue: Queue<Data>,
  id: string,
  pattern: string | null,
  template: ScheduledJob<Data>,
): Promise<boolean> {
  if (!pattern) {
    await queue.removeJobScheduler(id);
    return false;
  }
  // the job name's type is derived from Data, which TypeScript cannot resolve generically here
  await (queue as Queue).upsertJobScheduler(id, { pattern }, template);
  return true;
}

export interface JobScheduleSettings<Data> {
  id: string;
  /** The cron pattern from the configuration; null: no schedule. */
  pattern: string | null;
  job: ScheduledJob<Data>;
  /** What the schedule does, for the log line: "retraining". */
  doing: string;
}

/**
 * A worker's cron schedule on one queue: once the app has booted, the queue's scheduler is made
 * to match the configuration (syncJobScheduler). A subclass injects its queue and names the rest.
 */
export abstract class JobSchedule<Data> implements OnApplicationBootstrap {
  private readonly logger = new Logger(this.constructor.name);

  protected constructor(
    private readonly queue: Queue<Data>,
    private readonly settings: JobScheduleSettings<Data>,
  ) {
    // this module's own instance of the queue (its processor's too)
    logQueueErrors(queue);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { id, pattern, job, doing } = this.settings;
    if (await syncJobScheduler(this.queue, id, pattern, job)) this.logger.log(`${doing} on schedule "${pattern}"`);
  }
}
