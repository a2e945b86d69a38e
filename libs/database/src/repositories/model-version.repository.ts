import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource, DeepPartial, In } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ModelStatus, ModelVersionEntity } from '../entities';
import { copyBinaryColumnInto } from './copy-binary-column';
import { inReadSnapshot } from './read-snapshot';

const WEIGHT_CHUNK_BYTES = 32 * 2 ** 20;

/** Published completely (or retired after): a retry must leave such a version as it is. */
export const isComplete = (status: ModelStatus): boolean =>
  status === ModelStatus.READY ||
  status === ModelStatus.ACTIVE ||
  status === ModelStatus.CANARY ||
  status === ModelStatus.RETIRED;

/** The longest one statement reading a model's weights may run: minutes for a catalogue of millions. */
const MODEL_READ_TIMEOUT_MS = 10 * 60_000;

@Injectable()
export class ModelVersionRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(ModelVersionEntity);
  }

  /**
   * The version a job trains. A retried job gets its own row back: reset to TRAINING only while it
   * is unfinished (TRAINING, FAILED); a complete one (published: READY, ACTIVE, RETIRED) comes back
   * as it is, so a retry never resets, deletes or republishes a version that may be live.
   */
  async startForJob(jobId: string, config: Record<string, unknown>): Promise<ModelVersionEntity> {
    const existing = await this.repo.findOneBy({ jobId });
    if (existing && isComplete(existing.status)) return existing;
    if (existing) {
      await this.repo.update(existing.version, {
        status: ModelStatus.TRAINING,
        error: null,
        lossCurve: [],
        timings: {},
      });
      return { ...existing, status: ModelStatus.TRAINING };
    }
    return this.repo.save(
      this.repo.create({ jobId, config, status: ModelStatus.TRAINING, lossCurve: [], timings: {} }),
    );
  }

  /** Versions whose keys are complete in Redis and may be served or rolled back to: READY, ACTIVE and CANARY. */
  findComplete(): Promise<ModelVersionEntity[]> {
    return this.repo.find({
      where: { status: In([ModelStatus.READY, ModelStatus.ACTIVE, ModelStatus.CANARY]) },
      order: { version: 'DESC' },
    });
  }

  /** Unfinished versions (TRAINING, FAILED) that still hold weights or may hold keys. */
  findUnfinished(): Promise<ModelVersionEntity[]> {
    return this.repo.find({
      where: { status: In([ModelStatus.TRAINING, ModelStatus.FAILED]) },
      select: { version: true, status: true },
    });
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
        await tx.query('INSERT INTO model_weight_chunks (version, seq, data) VALUES ($1, $2, $3)', [
          version,
          seq,
          chunk,
        ]);
      }
    });
  }

  /**
   * The blob, streamed by COPY BINARY into one buffer allocated once: no hex text twice its size,
   * and a large catalogue's model (~1 GB at 200,000 items) is never held twice. The size and the
   * rows come from one snapshot, so a version retired meanwhile reads whole or not at all.
   */
  async weights(version: number): Promise<Buffer | null> {
    if (!Number.isSafeInteger(version)) throw new Error(`not a model version: ${version}`);
    // a model load is background work, not a request: the API's STATEMENT_TIMEOUT_MS (5 s) does
    // not bound it (2 GB at 1M items took longer, and the API never loaded the model)
    return inReadSnapshot(
      this.db,
      async (client) => {
        const { rows } = await client.query<{ chunks: number; bytes: string }>(
          'SELECT count(*)::int AS chunks, COALESCE(sum(octet_length(data)), 0)::int8 AS bytes FROM model_weight_chunks WHERE version = $1',
          [version],
        );
        if (rows[0].chunks === 0) return null;
        const blob = Buffer.allocUnsafe(Number(rows[0].bytes));
        // COPY takes no parameters: the version is checked to be an integer above
        const copied = await copyBinaryColumnInto(
          client.query(
            copyTo(
              `COPY (SELECT data FROM model_weight_chunks WHERE version = ${version} ORDER BY seq) TO STDOUT (FORMAT binary)`,
            ),
          ),
          blob,
        );
        if (copied !== blob.length) throw new Error(`the weights of version ${version} changed while they were read`);
        return blob;
      },
      { statementTimeoutMs: MODEL_READ_TIMEOUT_MS },
    );
  }

  /** An unfinished version's stored model: its weights and its approximate item index (ModelIndexRepository). */
  async clearWeights(version: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM model_weight_chunks WHERE version = $1', [version]);
      await tx.query('DELETE FROM model_index_chunks WHERE version = $1', [version]);
    });
  }

  /** Makes `version` the only ACTIVE one in one transaction; the previous one becomes READY. */
  async activate(version: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.getRepository(ModelVersionEntity).update({ status: ModelStatus.ACTIVE }, { status: ModelStatus.READY });
      await tx
        .getRepository(ModelVersionEntity)
        .update(version, { status: ModelStatus.ACTIVE, activatedAt: new Date() });
    });
  }

  /**
   * READY versions beyond the newest `keep` (the active one aside), whose keys may go. Their
   * approximate item index goes with the status (gigabytes at 1M items, and nobody serves a
   * RETIRED version); their weights stay.
   */
  async retireAllBut(keepVersions: number[]): Promise<number[]> {
    const ready = await this.repo.find({ where: { status: In([ModelStatus.READY]) }, select: { version: true } });
    const retire = ready.map((r) => r.version).filter((v) => !keepVersions.includes(v));
    if (retire.length)
      await this.db.transaction(async (tx) => {
        await tx.getRepository(ModelVersionEntity).update({ version: In(retire) }, { status: ModelStatus.RETIRED });
        await tx.query('DELETE FROM model_index_chunks WHERE version = ANY($1::int[])', [retire]);
      });
    return retire;
  }
}
