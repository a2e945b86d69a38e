import { Args, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { DECODE_COST } from '../graphql/complexity-limit';
import { UserIdArgs } from '../validation/id.args';
import { RecommendationsArgs, SessionRecommendationsArgs, SimilarItemsArgs } from './dto/recommendations.args';
import { Recommendations, SessionRecommendations, UserEmbedding } from './models/recommendations.model';
import { RecommendationsService } from './recommendations.service';

@Resolver()
export class RecommendationsResolver {
  constructor(private readonly service: RecommendationsService) {}

  @RequiresScope('serve')
  @Query(() => Recommendations, {
    complexity: DECODE_COST,
    description: "What the user should see next: the decoder's reconstruction of their history. Always answers.",
  })
  recommendations(
    @Args() { userId, limit, excludeSeen, filter, preview }: RecommendationsArgs,
  ): Promise<Recommendations> {
    return this.service.forUser(userId, excludeSeen, { limit, filter: filter ?? undefined, preview });
  }

  @RequiresScope('serve')
  @Query(() => SessionRecommendations, {
    complexity: DECODE_COST,
    description: 'Recommendations for an anonymous session: the given items folded in as a history.',
  })
  recommendationsForItems(
    @Args() { itemIds, userId, limit, filter, preview }: SessionRecommendationsArgs,
  ): Promise<SessionRecommendations> {
    return this.service.forItems(itemIds, userId ?? null, { limit, filter: filter ?? undefined, preview });
  }

  @RequiresScope('serve')
  @Query(() => Recommendations, {
    complexity: DECODE_COST,
    description: "Nearest items by cosine of the model's item vectors.",
  })
  similarItems(@Args() { itemId, userId, limit, preview }: SimilarItemsArgs): Promise<Recommendations> {
    return this.service.similarItems(itemId, userId ?? null, { limit, preview });
  }

  @RequiresScope('embeddings')
  @Query(() => UserEmbedding, {
    nullable: true,
    description: "The user's embedding in the active model; null without a model or a history.",
  })
  userEmbedding(@Args() { userId }: UserIdArgs): Promise<UserEmbedding | null> {
    return this.service.userEmbedding(userId);
  }
}
