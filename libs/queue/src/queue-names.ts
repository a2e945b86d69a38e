/** Queue and job names live here so the producer (api) and the consumer (jobs) cannot drift. */
export enum QueueName {
  Training = 'training',
  Export = 'export',
}

/** Redis key prefix of every BullMQ key, so recoder's queues are easy to find and never collide. */
export const QUEUE_PREFIX = 'recoder:bull';
