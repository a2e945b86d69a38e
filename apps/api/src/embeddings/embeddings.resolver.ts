import { Args, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-type-json';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { EmbeddingMapPageArgs, EmbeddingsArgs, MAX_EMBEDDING_IDS, MAX_MAP_PAGE } from './dto/embeddings.args';
import { EmbeddingsService } from './embeddings.service';
import { EmbeddingBatch, EmbeddingMapBatch, EmbeddingMapPage, MapPagePoint } from './models/embedding-batch.model';

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

  @RequiresScope('embeddings')
  @Query(() => EmbeddingMapPage, {
    description: `Every user or item of a version on its 2-D map, a page at a time (up to ${MAX_MAP_PAGE} points; default: the active version).`,
  })
  embeddingMapPage(@Args() { kind, limit, after, version }: EmbeddingMapPageArgs): Promise<EmbeddingMapPage> {
    return this.service.mapPage(kind, limit, after ?? undefined, version ?? undefined);
  }
}

/** An item's attributes beside its place on the map are catalogue data: the `serve` scope, as `item` has. */
@Resolver(() => MapPagePoint)
export class MapPagePointResolver {
  @RequiresScope('serve')
  @ResolveField(() => GraphQLJSONObject, { nullable: true, description: "The item's attributes; null for a user." })
  attributes(@Parent() point: MapPagePoint): Record<string, unknown> | null {
    return point.itemAttributes;
  }
}
