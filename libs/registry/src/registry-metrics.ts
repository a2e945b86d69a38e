import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Gauge, register } from 'prom-client';
import { ModelVersionRepository } from '@app/database';
import { QueueName } from '@app/queue';

const JOB_STATES = ['waiting', 'active', 'completed', 'failed', 'delayed'] as const;

/** Gauges read at scrape time, so /metrics on api and worker alike shows the live state. */
@Injectable()
export class RegistryMetrics implements OnModuleInit {
  constructor(
    @InjectQueue(QueueName.Training) private readonly training: Queue,
    @InjectQueue(QueueName.Export) private readonly exports: Queue,
    @InjectQueue(QueueName.Popularity) private readonly popularity: Queue,
    private readonly versions: ModelVersionRepository,
  ) {}

  onModuleInit(): void {
    // one registration per process, however many modules import this
    if (register.getSingleMetric('recoder_active_model_version')) return;
    const versions = this.versions;
    const queues = [this.training, this.exports, this.popularity];
    new Gauge({
      name: 'recoder_active_model_version',
      help: 'The model version serving recommendations: the one Postgres calls ACTIVE (0: none yet)',
      async collect() {
        // not the Redis pointer: it only tells processes to look, and may lag or diverge
        this.set((await versions.findActive().catch(() => null))?.version ?? 0);
      },
    });
    new Gauge({
      name: 'recoder_jobs',
      help: 'Jobs by queue and state',
      labelNames: ['queue', 'state'],
      async collect() {
        for (const queue of queues) {
          const counts = await queue.getJobCounts(...JOB_STATES).catch(() => null);
          if (counts) for (const state of JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      },
    });
  }
}
