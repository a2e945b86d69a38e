import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ItemFilter } from './dto/item-filter.input';
import { Recommendations, SessionRecommendations, UserEmbedding } from './models/recommendations.model';
import { RecommendationsService } from './recommendations.service';

@Resolver()
export class RecommendationsResolver {
  constructor(private readonly service: RecommendationsService) {}

  @RequiresScope('serve')
  @Query(() => Recommendations, { description: 'What the user should see next: the decoder\'s reconstruction of their history. Always answers.' })
  recommendations(
    @Args('userId', { type: () => ID }) userId: string,
    @Args('limit', { type: () => Int, defaultValue: 20 }) limit: number,
    @Args('excludeSeen', { defaultValue: true }) excludeSeen: boolean,
    @Args('filter', { type: () => ItemFilter, nullable: true }) filter?: ItemFilter,
  ): Promise<Recommendations> {
    return this.service.forUser(userId, limit, excludeSeen, filter ?? undefined);
  }

  @RequiresScope('serve')
  @Query(() => SessionRecommendations, { description: 'Recommendations for an anonymous session: the given items folded in as a history.' })
  recommendationsForItems(
    @Args('itemIds', { type: () => [ID] }) itemIds: string[],
    @Args('limit', { type: () => Int, defaultValue: 20 }) limit: number,
    @Args('filter', { type: () => ItemFilter, nullable: true }) filter?: ItemFilter,
  ): Promise<SessionRecommendations> {
    return this.service.forItems(itemIds, limit, filter ?? undefined);
  }

  @RequiresScope('serve')
  @Query(() => Recommendations, { description: 'Nearest items by cosine of the model\'s item vectors.' })
  similarItems(@Args('itemId', { type: () => ID }) itemId: string, @Args('limit', { type: () => Int, defaultValue: 20 }) limit: number): Promise<Recommendations> {
    return this.service.similarItems(itemId, limit);
  }

  @RequiresScope('embeddings')
  @Query(() => UserEmbedding, { nullable: true, description: 'The user\'s embedding in the active model; null without a model or a history.' })
  userEmbedding(@Args('userId', { type: () => ID }) userId: string): Promise<UserEmbedding | null> {
    return this.service.userEmbedding(userId);
  }
}
