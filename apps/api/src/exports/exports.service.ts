import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { createReadStream, ReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EnvVars } from '@app/config';
import { ModelVersionRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { exportDirName, ExportFormat, ExportManifest, MANIFEST_FILE } from '@app/export';
import { exportDeduplicationId, ExportProgress, JobName, JobPayloads, QueueName } from '@app/queue';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { EmbeddingKind } from '../embeddings/models/embedding-batch.model';
import { JobState, jobStateOf } from '../jobs/job-state';
import { exportFilePath } from './export-file-path';
import { ExportJobModel } from './models/export-job.model';

type Payload = JobPayloads[JobName.ExportEmbeddings];
/** BullMQ's job ids: anything else (a "../", an encoded slash) names no export and never reaches the file system. */
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

@Injectable()
export class ExportsService {
  constructor(
    @InjectQueue(QueueName.Export) private readonly queue: Queue<Payload, ExportManifest>,
    private readonly store: EmbeddingStoreRepository,
    private readonly versions: ModelVersionRepository,
    private readonly env: EnvVars,
  ) {}

  /**
   * Enqueues an export of `version`, by default the one Postgres calls ACTIVE (not the Redis
   * pointer, which may lag a switch); the same vectors in the same format already queued or running: that job.
   */
  async request(kind: EmbeddingKind, format: ExportFormat, version?: number): Promise<ExportJobModel> {
    const v = version ?? (await this.versions.findActive())?.version ?? null;
    if (v === null) throw new ApiError(ApiErrorCode.NotFound, 'No model has been trained yet');
    if (!(await this.store.readMeta(v)))
      throw new ApiError(ApiErrorCode.NotFound, `Version ${v} has no embeddings (never published, or retired)`);
    const payload: Payload = { kind: kind === EmbeddingKind.USER ? 'user' : 'item', format, version: v };
    const job = await this.queue.add(JobName.ExportEmbeddings, payload, {
      deduplication: { id: exportDeduplicationId(payload) },
    });
    return this.describe(job);
  }

  async job(id: string): Promise<ExportJobModel | null> {
    const job = await this.queue.getJob(id);
    return job ? this.describe(job) : null;
  }

  /** Export jobs, newest first: queued and running ones, then finished ones. */
  async jobs(limit: number): Promise<ExportJobModel[]> {
    const jobs = (
      await this.queue.getJobs(
        ['active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed'],
        0,
        limit - 1,
        false,
      )
    )
      .sort((a, b) => b.timestamp - a.timestamp)
      .slice(0, limit);
    return Promise.all(jobs.map((job) => this.describe(job)));
  }

  /**
   * User-embedding exports that may hold a user erased now: every finished one on disk, and every
   * one running (it may have read the user's hash already). Exports started later cannot.
   */
  async userExportsWritten(): Promise<string[]> {
    const root = resolve(this.env.EXPORT_DIR);
    const dirs = await readdir(root).catch(() => [] as string[]);
    const finished = await Promise.all(
      dirs
        .filter((dir) => dir.startsWith(exportDirName('')))
        .map((dir) => dir.slice(exportDirName('').length))
        .filter((id) => JOB_ID.test(id))
        .map(async (id) => {
          const manifest = await readFile(join(root, exportDirName(id), MANIFEST_FILE), 'utf8').catch(() => null);
          return manifest && (JSON.parse(manifest) as ExportManifest).kind === 'user' ? id : null;
        }),
    );
    const running = (await this.queue.getActive()).filter((job) => job.data.kind === 'user').map((job) => job.id!);
    return [...new Set([...finished.filter((id): id is string => id !== null), ...running])].sort();
  }

  /** A finished export's file, streamed; only names its manifest lists (no path tricks). */
  async open(id: string, file: string): Promise<{ stream: ReadStream; bytes: number }> {
    if (!JOB_ID.test(id)) throw new ApiError(ApiErrorCode.NotFound, `No finished export ${JSON.stringify(id)}`);
    const dir = join(resolve(this.env.EXPORT_DIR), exportDirName(id));
    const manifest = await readFile(join(dir, MANIFEST_FILE), 'utf8').then(
      (t) => JSON.parse(t) as ExportManifest,
      () => null,
    );
    if (!manifest) throw new ApiError(ApiErrorCode.NotFound, `No finished export ${id}`);
    const entry = file === MANIFEST_FILE ? { name: file, bytes: -1 } : manifest.files.find((f) => f.name === file);
    if (!entry) throw new ApiError(ApiErrorCode.NotFound, `Export ${id} has no file ${file}`);
    return { stream: createReadStream(join(dir, entry.name)), bytes: entry.bytes };
  }

  private async describe(job: Job<Payload, ExportManifest>): Promise<ExportJobModel> {
    const state = await jobStateOf(job);
    const manifest = state === JobState.COMPLETED ? job.returnvalue : null;
    return {
      id: job.id!,
      state,
      progress: typeof job.progress === 'object' ? (job.progress as unknown as ExportProgress) : null,
      error: job.failedReason ?? null,
      version: job.data.version,
      kind: job.data.kind === 'user' ? EmbeddingKind.USER : EmbeddingKind.ITEM,
      format: job.data.format,
      createdAt: new Date(job.timestamp),
      count: manifest?.count ?? null,
      files: (manifest?.files ?? []).map((f) => ({ ...f, url: exportFilePath(job.id!, f.name) })),
    };
  }
}
