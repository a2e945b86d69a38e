import { Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { QueueName } from './queue-names';

/** At most one warning this often per process while a queue's Redis is unreachable. */
const QUIET_MS = 30_000;
const logger = new Logger('Queue');
let lastWarned = 0;

/**
 * A BullMQ queue emits 'error' on every failed reconnect; unheard, each prints a stack on stderr
 * (the soak's 12 s Redis restart printed 61). One warning per 30 s instead: the connection
 * retries by itself.
 */
export function logQueueErrors(queue: Queue): void {
  if (queue.listenerCount('error') > 0) return;
  queue.on('error', (err: Error) => {
    if (Date.now() - lastWarned < QUIET_MS) return;
    lastWarned = Date.now();
    logger.warn(`queue ${queue.name}: ${err.message} (retrying)`);
  });
}

/** Listens on the queues QueueModule registers. */
@Injectable()
export class QueueErrorLog {
  constructor(
    @InjectQueue(QueueName.Training) training: Queue,
    @InjectQueue(QueueName.Export) exports: Queue,
    @InjectQueue(QueueName.Popularity) popularity: Queue,
  ) {
    for (const queue of [training, exports, popularity]) logQueueErrors(queue);
  }
}
