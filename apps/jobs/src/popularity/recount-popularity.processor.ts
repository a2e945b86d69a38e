import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { EnvVars } from '@app/config';
import { CatalogueRepository } from '@app/database';
import { inputSettingsOf, retentionStart } from '@app/feedback';
import { JobName, JobPayloads, QueueName } from '@app/queue';

/** Recounts item popularity, the ranking cold-start answers use, from the POSITIVE events as they are now. */
@Processor(QueueName.Popularity, { concurrency: 1 })
export class RecountPopularityProcessor extends WorkerHost {
  private readonly logger = new Logger(RecountPopularityProcessor.name);

  constructor(
    private readonly catalogue: CatalogueRepository,
    private readonly env: EnvVars,
  ) {
    super();
  }

  // named by a JobName; process() still refuses a name it does not handle
  async process(job: Job<JobPayloads[JobName.RecountPopularity], unknown, JobName>) {
    if (job.name !== JobName.RecountPopularity) throw new UnrecoverableError(`Unknown job ${job.name}`);
    const started = performance.now();
    // the retention window a training would apply now
    const counted = await this.catalogue.recountPopularity(retentionStart(Date.now(), inputSettingsOf(this.env)));
    const seconds = +((performance.now() - started) / 1000).toFixed(2);
    this.logger.log(`popularity recounted: ${counted.changed} of ${counted.items} items changed, ${seconds} s`);
    return { ...counted, seconds };
  }
}
