import { Args, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { EmbeddingsArgs, MAX_EMBEDDING_IDS } from './dto/embeddings.args';
import { EmbeddingsService } from './embeddings.service';
import { EmbeddingBatch, EmbeddingMapBatch } from './models/embedding-batch.model';

@Resolver()
export class EmbeddingsResolver {
  constructor(private readonly service: EmbeddingsService) {}

  @RequiresScope('embeddings')
  @Query(() => EmbeddingBatch, {
    description: `Up to ${MAX_EMBEDDING_IDS} user or item vectors of a model version (default: the active one).`,
  })
  embeddings(@Args() { kind, ids, version }: EmbeddingsArgs): Promise<EmbeddingBatch> {
    return this.service.batch(kind, ids, version ?? undefined);
  }

  @RequiresScope('embeddings')
  @Query(() => EmbeddingMapBatch, {
    description: `Up to ${MAX_EMBEDDING_IDS} users or items on the version's 2-D map (its vectors' first principal components; default: the active version).`,
  })
  embeddingMap(@Args() { kind, ids, version }: EmbeddingsArgs): Promise<EmbeddingMapBatch> {
    return this.service.map(kind, ids, version ?? undefined);
  }
}
