import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { JobName, JobPayloads, QueueName } from '@app/queue';
import { ExportInputError, ExportService } from './export.service';

// exports are I/O-bound and small in memory: two at a time
@Processor(QueueName.Export, { concurrency: 2 })
export class ExportEmbeddingsProcessor extends WorkerHost {
  constructor(private readonly exports: ExportService) {
    super();
  }

  // named by a JobName; process() still refuses a name it does not handle
  async process(job: Job<JobPayloads[JobName.ExportEmbeddings], unknown, JobName>) {
    if (job.name !== JobName.ExportEmbeddings) throw new UnrecoverableError(`Unknown job ${job.name}`);
    try {
      return await this.exports.run(job.id!, job.data, (progress) => job.updateProgress({ ...progress }));
    } catch (err) {
      // a version that is not there will not appear by retrying
      if (err instanceof ExportInputError) throw new UnrecoverableError(err.message);
      throw err;
    }
  }
}
