import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Job, JobType, Queue } from 'bullmq';
import { ModelVersionEntity, ModelVersionRepository } from '@app/database';
import { enqueueTraining, JobName, JobPayloads, QueueName, TrainingConfig, TrainingProgress } from '@app/queue';
import { ModelRegistryService } from '@app/registry';
import { TrainingConfigInput } from './dto/training-config.input';
import { ModelVersionModel } from './models/model-version.model';
import { JobState, jobStateOf } from '../jobs/job-state';
import { TrainingJobModel } from './models/training-job.model';
import { registryCall } from './experiments.service';

export const toModelVersion = (v: ModelVersionEntity): ModelVersionModel => ({
  ...v,
  interactions: Number(v.interactions),
  metrics: v.metrics,
  lossCurve: v.lossCurve ?? [],
});

/** The request's overrides, checked by its argument class; a field left null means "the default", so it is dropped. */
/** The queue's job names are plain strings to BullMQ. */
const TRAIN_MODEL_JOB: string = JobName.TrainModel;

/** BullMQ's states behind each state clients see. */
const BULLMQ_STATES: Record<JobState, JobType[]> = {
  [JobState.QUEUED]: ['waiting', 'prioritized', 'delayed', 'waiting-children'],
  [JobState.RUNNING]: ['active'],
  [JobState.COMPLETED]: ['completed'],
  [JobState.FAILED]: ['failed'],
};

const trainingConfigOf = (input: TrainingConfigInput = {}): TrainingConfig =>
  Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined));

@Injectable()
export class TrainingService {
  constructor(
    @InjectQueue(QueueName.Training) private readonly queue: Queue<JobPayloads[JobName.TrainModel]>,
    private readonly versions: ModelVersionRepository,
    private readonly registry: ModelRegistryService,
  ) {}

  /** Enqueues a training; while one is queued or running, returns that one instead. */
  async retrain(input: TrainingConfigInput | undefined, force: boolean): Promise<TrainingJobModel> {
    const config = trainingConfigOf(input);
    const job = await enqueueTraining(this.queue, { config, force, requestedAt: new Date().toISOString() });
    return this.describe(job);
  }

  async job(id: string): Promise<TrainingJobModel | null> {
    const job = await this.queue.getJob(id);
    return job ? this.describe(job) : null;
  }

  /** Training jobs in the given states (default: all), newest first. */
  async jobs(limit: number, states: JobState[] = Object.values(JobState)): Promise<TrainingJobModel[]> {
    const types = [...new Set(states.flatMap((state) => BULLMQ_STATES[state]))];
    // BullMQ reads up to `end` of each state's list, newest first; the schedule's tick jobs share the queue, so read twice as many
    const jobs = (await this.queue.getJobs(types, 0, 2 * limit - 1, false))
      .filter((job) => job?.name === TRAIN_MODEL_JOB)
      .sort((a, b) => b.timestamp - a.timestamp)
      .slice(0, limit);
    return Promise.all(jobs.map((job) => this.describe(job)));
  }

  async models(limit: number): Promise<ModelVersionModel[]> {
    return (await this.versions.list(limit)).map(toModelVersion);
  }

  async model(version?: number): Promise<ModelVersionModel | null> {
    const found = version === undefined ? await this.versions.findActive() : await this.versions.find(version);
    return found && toModelVersion(found);
  }

  async activate(version: number): Promise<ModelVersionModel> {
    return toModelVersion(await registryCall(() => this.registry.activate(version)));
  }

  private async describe(job: Job<JobPayloads[JobName.TrainModel]>): Promise<TrainingJobModel> {
    const state = await jobStateOf(job);
    const progress = typeof job.progress === 'object' ? (job.progress as unknown as TrainingProgress) : null;
    const version = await this.versions.findByJob(job.id!);
    return {
      id: job.id!,
      state,
      progress,
      error: job.failedReason ?? null,
      createdAt: new Date(job.timestamp),
      startedAt: job.processedOn ? new Date(job.processedOn) : null,
      finishedAt: job.finishedOn ? new Date(job.finishedOn) : null,
      config: { ...job.data.config },
      force: job.data.force,
      modelVersion: version && toModelVersion(version),
    };
  }
}
