import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, Job, Queue, UnrecoverableError } from 'bullmq';
import { getEnv } from '@app/config';
import { enqueueTraining, JobName, JobPayloads, QueueName } from '@app/queue';
import { NothingToTrainError, TrainingBusyError, TrainingService } from './training.service';

// named by a JobName; process() still refuses a name it does not handle
type TrainJob = Job<JobPayloads[JobName.TrainModel], unknown, JobName>;

const { TRAINING_LOCK_MS } = getEnv();
/** How long a job waits when another worker holds the training lock before it asks again. */
const BUSY_RETRY_MS = 5_000;

// one training at a time: it owns the CPU. A worker killed mid-job stops renewing its lock; after
// TRAINING_LOCK_MS another worker takes the job back (stalled-job detection)
@Processor(QueueName.Training, {
  concurrency: 1,
  lockDuration: TRAINING_LOCK_MS,
  stalledInterval: TRAINING_LOCK_MS,
  maxStalledCount: 1,
})
export class TrainModelProcessor extends WorkerHost {
  constructor(
    private readonly training: TrainingService,
    @InjectQueue(QueueName.Training) private readonly queue: Queue<JobPayloads[JobName.TrainModel]>,
  ) {
    super();
  }

  async process(job: TrainJob, token?: string) {
    if (job.name === JobName.ScheduledRetrain) return { enqueued: (await enqueueTraining(this.queue, job.data)).id };
    if (job.name !== JobName.TrainModel) throw new UnrecoverableError(`Unknown job ${job.name}`);
    try {
      return await this.training.run(job.id!, job.data.config, job.data.force, (progress) =>
        job.updateProgress({ ...progress }),
      );
    } catch (err) {
      // not an attempt: the job waits for the other worker's training to end
      if (err instanceof TrainingBusyError) {
        await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
        throw new DelayedError();
      }
      const message = err instanceof Error ? err.message : String(err);
      const lastAttempt = err instanceof NothingToTrainError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt) await this.training.markFailed(job.id!, message);
      // bad input will not get better by retrying
      if (err instanceof NothingToTrainError) throw new UnrecoverableError(message);
      throw err;
    }
  }
}
