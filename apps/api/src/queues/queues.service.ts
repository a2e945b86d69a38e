import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QueueName } from '@app/queue';
import { QueueState } from './models/queue-state.model';

@Injectable()
export class QueuesService {
  private readonly queues: Queue[];

  constructor(
    @InjectQueue(QueueName.Training) training: Queue,
    @InjectQueue(QueueName.Export) exports: Queue,
    @InjectQueue(QueueName.Popularity) popularity: Queue,
  ) {
    this.queues = [training, exports, popularity];
  }

  states(): Promise<QueueState[]> {
    return Promise.all(
      this.queues.map(async (queue) => {
        const [counts, paused] = await Promise.all([
          queue.getJobCounts('waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'completed', 'failed'),
          queue.isPaused(),
        ]);
        return {
          name: queue.name,
          paused,
          waiting: counts.waiting + counts.prioritized + counts['waiting-children'],
          active: counts.active,
          delayed: counts.delayed,
          completed: counts.completed,
          failed: counts.failed,
        };
      }),
    );
  }
}
