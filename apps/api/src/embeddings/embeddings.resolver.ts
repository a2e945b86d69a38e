import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { EmbeddingsService, MAX_EMBEDDING_IDS } from './embeddings.service';
import { EmbeddingBatch, EmbeddingKind, EmbeddingMapBatch } from './models/embedding-batch.model';

@Resolver()
export class EmbeddingsResolver {
  constructor(private readonly service: EmbeddingsService) {}

  @RequiresScope('embeddings')
  @Query(() => EmbeddingBatch, { description: `Up to ${MAX_EMBEDDING_IDS} user or item vectors of a model version (default: the active one).` })
  embeddings(
    @Args('kind', { type: () => EmbeddingKind }) kind: EmbeddingKind,
    @Args('ids', { type: () => [ID] }) ids: string[],
    @Args('version', { type: () => Int, nullable: true }) version?: number,
  ): Promise<EmbeddingBatch> {
    return this.service.batch(kind, ids, version ?? undefined);
  }

  @RequiresScope('embeddings')
  @Query(() => EmbeddingMapBatch, { description: `Up to ${MAX_EMBEDDING_IDS} users or items on the version's 2-D map (its vectors' first principal components; default: the active version).` })
  embeddingMap(
    @Args('kind', { type: () => EmbeddingKind }) kind: EmbeddingKind,
    @Args('ids', { type: () => [ID] }) ids: string[],
    @Args('version', { type: () => Int, nullable: true }) version?: number,
  ): Promise<EmbeddingMapBatch> {
    return this.service.map(kind, ids, version ?? undefined);
  }
}
