import type { JobSchedulerTemplateOptions, Queue } from 'bullmq';

/**
 * Makes the queue's scheduler `id` match the configuration: upserted with `pattern` (one
 * scheduler, however many workers start), or removed when there is none (a schedule switched
 * off must not keep firing from Redis). True when a schedule is set.
 */
export async function syncJobScheduler<Data>(
  queue: Queue<Data>,
  id: string,
  pattern: string | null,
  template: { name: string; data: Data; opts?: JobSchedulerTemplateOptions },
): Promise<boolean> {
  if (!pattern) {
    await queue.removeJobScheduler(id);
    return false;
  }
  // the job name's type is derived from Data, which TypeScript cannot resolve generically here
  await (queue as Queue).upsertJobScheduler(id, { pattern }, template);
  return true;
}
