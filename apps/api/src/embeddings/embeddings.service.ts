import { Injectable } from '@nestjs/common';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { ApiError, ApiErrorCode, BadUserInputError } from '../errors/api-error';
import { EmbeddingBatch, EmbeddingKind } from './models/embedding-batch.model';

export const MAX_EMBEDDING_IDS = 1000;

@Injectable()
export class EmbeddingsService {
  constructor(private readonly store: EmbeddingStoreRepository) {}

  /** Vectors of a version (the active one by default) straight from Redis; unknown ids are listed, not an error. */
  async batch(kind: EmbeddingKind, ids: string[], version?: number): Promise<EmbeddingBatch> {
    if (ids.length > MAX_EMBEDDING_IDS) throw new BadUserInputError(`At most ${MAX_EMBEDDING_IDS} ids per call, got ${ids.length}`, { field: 'ids' });
    const v = version ?? (await this.store.activeVersion());
    if (v === null) throw new ApiError(ApiErrorCode.NotFound, 'No model has been trained yet');
    const meta = await this.store.readMeta(v);
    if (!meta) throw new ApiError(ApiErrorCode.NotFound, `Version ${v} has no embeddings (never published, or retired)`);
    const vectors = await this.store.readVectors(v, kind === EmbeddingKind.USER ? 'user' : 'item', ids);
    const found: EmbeddingBatch['vectors'] = [];
    const missing: string[] = [];
    ids.forEach((id, k) => (vectors[k] ? found.push({ id, vector: Array.from(vectors[k]!) }) : missing.push(id)));
    return { version: v, dimension: kind === EmbeddingKind.USER ? meta.dim : meta.itemDim, vectors: found, missing };
  }
}
