import { registerEnumType } from '@nestjs/graphql';
import type { Job } from 'bullmq';

// keys equal values: GraphQL shows the keys
export enum JobState {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
registerEnumType(JobState, { name: 'JobState', description: 'Where a queued job (training, export) is.' });

const FROM_BULLMQ: Record<string, JobState> = {
  active: JobState.RUNNING,
  completed: JobState.COMPLETED,
  failed: JobState.FAILED,
};

/** BullMQ's states folded into the four clients see; waiting, delayed, prioritized... are QUEUED. */
export async function jobStateOf(job: Job): Promise<JobState> {
  return FROM_BULLMQ[await job.getState()] ?? JobState.QUEUED;
}
