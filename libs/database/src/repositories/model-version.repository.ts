import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, DeepPartial, In } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ModelStatus, ModelVersionEntity } from '../entities';

const WEIGHT_CHUNK_BYTES = 32 * 2 ** 20;

@Injectable()
export class ModelVersionRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(ModelVersionEntity);
  }

  /** The version a job trains; a retried job (after a crash) gets its own row back, reset. */
  async startForJob(jobId: string, config: Record<string, unknown>): Promise<ModelVersionEntity> {
    const existing = await this.repo.findOneBy({ jobId });
    if (existing) {
      await this.repo.update(existing.version, { status: ModelStatus.TRAINING, error: null, lossCurve: [], timings: {} });
      return { ...existing, status: ModelStatus.TRAINING };
    }
    return this.repo.save(this.repo.create({ jobId, config, status: ModelStatus.TRAINING, lossCurve: [], timings: {} }));
  }

  update(version: number, fields: DeepPartial<ModelVersionEntity>): Promise<unknown> {
    return this.repo.update(version, fields as QueryDeepPartialEntity<ModelVersionEntity>);
  }

  find(version: number): Promise<ModelVersionEntity | null> {
    return this.repo.findOneBy({ version });
  }

  findByJob(jobId: string): Promise<ModelVersionEntity | null> {
    return this.repo.findOneBy({ jobId });
  }

  findActive(): Promise<ModelVersionEntity | null> {
    return this.repo.findOneBy({ status: ModelStatus.ACTIVE });
  }

  list(limit: number): Promise<ModelVersionEntity[]> {
    return this.repo.find({ order: { version: 'DESC' }, take: limit });
  }

  /** The model library's blob (weights, config, id maps), stored in chunks: see the ChunkModelWeights migration. */
  async saveWeights(version: number, blob: Buffer): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM model_weight_chunks WHERE version = $1', [version]);
      for (let seq = 0; seq * WEIGHT_CHUNK_BYTES < blob.length; seq++) {
        const chunk = blob.subarray(seq * WEIGHT_CHUNK_BYTES, (seq + 1) * WEIGHT_CHUNK_BYTES);
        await tx.query('INSERT INTO model_weight_chunks (version, seq, data) VALUES ($1, $2, $3)', [version, seq, chunk]);
      }
    });
  }

  async weights(version: number): Promise<Buffer | null> {
    const sizes: { seq: number; bytes: number }[] = await this.db.query('SELECT seq, octet_length(data) AS bytes FROM model_weight_chunks WHERE version = $1 ORDER BY seq', [version]);
    if (sizes.length === 0) return null;
    // the blob is allocated once and each chunk copied into place: a model of a large catalogue
    // (~1 GB at 200,000 items) is never held twice, once in chunks and once concatenated
    const blob = Buffer.allocUnsafe(sizes.reduce((sum, c) => sum + c.bytes, 0));
    let offset = 0;
    for (const { seq, bytes } of sizes) {
      // one chunk per query: each reaches the client as hex text twice its size
      const [row] = await this.db.query('SELECT data FROM model_weight_chunks WHERE version = $1 AND seq = $2', [version, seq]);
      const chunk: Buffer | undefined = row?.data;
      // a version retired (its chunks deleted or rewritten) while it was being read
      if (!chunk || chunk.length !== bytes) throw new Error(`the weights of version ${version} changed while they were read`);
      offset += chunk.copy(blob, offset);
    }
    return blob;
  }

  clearWeights(version: number): Promise<unknown> {
    return this.db.query('DELETE FROM model_weight_chunks WHERE version = $1', [version]);
  }

  /** Makes `version` the only ACTIVE one in one transaction; the previous one becomes READY. */
  async activate(version: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.getRepository(ModelVersionEntity).update({ status: ModelStatus.ACTIVE }, { status: ModelStatus.READY });
      await tx.getRepository(ModelVersionEntity).update(version, { status: ModelStatus.ACTIVE, activatedAt: new Date() });
    });
  }

  /** READY versions beyond the newest `keep` (the active one aside), whose keys may go. */
  async retireAllBut(keepVersions: number[]): Promise<number[]> {
    const ready = await this.repo.find({ where: { status: In([ModelStatus.READY]) }, select: { version: true } });
    const retire = ready.map((r) => r.version).filter((v) => !keepVersions.includes(v));
    if (retire.length) await this.repo.update({ version: In(retire) }, { status: ModelStatus.RETIRED });
    return retire;
  }
}
