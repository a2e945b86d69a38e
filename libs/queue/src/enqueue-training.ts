import type { Job, Queue } from 'bullmq';
import { JobName, JobPayloads, TRAINING_DEDUPLICATION_ID } from './queue-names';

type TrainPayload = JobPayloads[JobName.TrainModel];

/**
 * The one way a training is enqueued, asked for by an admin or by the schedule: while one is
 * queued, delayed or running, asking again returns that job (one BullMQ deduplication id).
 */
export function enqueueTraining(queue: Queue<TrainPayload>, payload: TrainPayload): Promise<Job<TrainPayload>> {
  return queue.add(JobName.TrainModel, payload, { deduplication: { id: TRAINING_DEDUPLICATION_ID } });
}
