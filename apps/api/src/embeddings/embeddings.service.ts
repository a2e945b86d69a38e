import { Injectable } from '@nestjs/common';
import { ItemRepository, ModelVersionRepository, UserRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { projectOnMap } from '@app/model';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { EmbeddingBatch, EmbeddingKind, EmbeddingMapBatch, EmbeddingMapPage } from './models/embedding-batch.model';

@Injectable()
export class EmbeddingsService {
  constructor(
    private readonly store: EmbeddingStoreRepository,
    private readonly versions: ModelVersionRepository,
    private readonly items: ItemRepository,
    private readonly users: UserRepository,
  ) {}

  /** Vectors of a version (the active one by default) straight from Redis; unknown ids are listed, not an error. */
  async batch(kind: EmbeddingKind, ids: string[], version?: number): Promise<EmbeddingBatch> {
    const { v, meta } = await this.published(ids, version);
    const { found, missing } = await this.vectorsOf(v, kind, ids);
    return {
      version: v,
      dimension: kind === EmbeddingKind.USER ? meta.dim : meta.itemDim,
      vectors: found.map(({ id, vector }) => ({ id, vector: Array.from(vector) })),
      missing,
    };
  }

  /**
   * The same vectors placed on the version's map: 2-D coordinates to plot users or items with.
   * A user folded in since training has a fresh vector in Redis, and lands where it now belongs.
   */
  async map(kind: EmbeddingKind, ids: string[], version?: number): Promise<EmbeddingMapBatch> {
    const { v } = await this.published(ids, version);
    const map = await this.readMap(v, kind);
    const { found, missing } = await this.vectorsOf(v, kind, ids);
    return {
      version: v,
      components: map.components.length,
      explainedVariance: map.explainedVariance,
      fittedOn: map.rows,
      points: found.map(({ id, vector }) => ({ id, coordinates: projectOnMap(map, vector) })),
      missing,
    };
  }

  /**
   * Every user or item of a version on its map, a page at a time: ids in the order Postgres first
   * recorded them (a keyset page, so pages neither skip nor repeat one while others are added),
   * then their vectors from Redis. `embeddingMap` needs the ids; this lists them.
   */
  async mapPage(kind: EmbeddingKind, limit: number, after?: string, version?: number): Promise<EmbeddingMapPage> {
    const { v, meta } = await this.published([], version);
    const map = await this.readMap(v, kind);
    const rows =
      kind === EmbeddingKind.ITEM
        ? await this.items.pageInCreationOrder(Number(after ?? 0), limit)
        : (await this.users.pageInCreationOrder(Number(after ?? 0), limit)).map((r) => ({ ...r, attributes: null }));
    const vectors = await this.store.readVectors(
      v,
      storeKind(kind),
      rows.map((r) => r.externalId),
    );
    const points = rows.flatMap((row, k) => {
      const vector = vectors[k];
      return vector
        ? [{ id: row.externalId, coordinates: projectOnMap(map, vector), itemAttributes: row.attributes }]
        : [];
    });
    return {
      version: v,
      components: map.components.length,
      explainedVariance: map.explainedVariance,
      total: kind === EmbeddingKind.USER ? meta.users : meta.items,
      points,
      nextCursor: rows.length === limit ? String(rows[rows.length - 1].id) : null,
    };
  }

  private async readMap(v: number, kind: EmbeddingKind) {
    const map = await this.store.readMap(v, storeKind(kind));
    if (!map)
      throw new ApiError(
        ApiErrorCode.NotFound,
        `Version ${v} has no ${storeKind(kind)} map (published before maps existed): retrain to get one`,
      );
    return map;
  }

  /**
   * The version asked for, by default the one Postgres calls ACTIVE (what the recommendations serve;
   * the Redis pointer may lag a switch or point elsewhere), once it is known to be complete.
   */
  private async published(ids: string[], version?: number) {
    const v = version ?? (await this.versions.findActive())?.version ?? null;
    if (v === null) throw new ApiError(ApiErrorCode.NotFound, 'No model has been trained yet');
    const meta = await this.store.readMeta(v);
    if (!meta)
      throw new ApiError(ApiErrorCode.NotFound, `Version ${v} has no embeddings (never published, or retired)`);
    return { v, meta };
  }

  private async vectorsOf(version: number, kind: EmbeddingKind, ids: string[]) {
    const vectors = await this.store.readVectors(version, storeKind(kind), ids);
    const found: { id: string; vector: Float32Array }[] = [];
    const missing: string[] = [];
    ids.forEach((id, k) => (vectors[k] ? found.push({ id, vector: vectors[k] }) : missing.push(id)));
    return { found, missing };
  }
}

const storeKind = (kind: EmbeddingKind): 'user' | 'item' => (kind === EmbeddingKind.USER ? 'user' : 'item');
