import { Args, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { QUERY_COST } from '../graphql/complexity-limit';
import { IdArgs } from '../validation/id.args';
import { HistoryArgs } from './dto/history.args';
import { InteractionPage } from '../interactions/models/interaction.model';
import { User } from './models/user.model';
import { UserErasure } from './models/user-erasure.model';
import { UsersService } from './users.service';

@Resolver(() => User)
export class UsersResolver {
  constructor(private readonly users: UsersService) {}

  @RequiresScope('admin')
  @Query(() => User, { nullable: true, description: 'A user by id; null if recoder has never seen them.' })
  user(@Args() { id }: IdArgs): Promise<User | null> {
    return this.users.find(id);
  }

  @RequiresScope('admin')
  @ResolveField(() => InteractionPage, { complexity: QUERY_COST, description: 'Their interactions, newest first.' })
  interactions(@Parent() user: User, @Args() { limit, before }: HistoryArgs): Promise<InteractionPage> {
    return this.users.history(user, limit, before);
  }

  @RequiresScope('admin')
  @ResolveField(() => Int, { complexity: QUERY_COST })
  interactionCount(@Parent() user: User): Promise<number> {
    return this.users.interactionCount(user);
  }

  @RequiresScope('admin')
  @Mutation(() => UserErasure, {
    description:
      'Erases a user: their interactions, their cached embeddings in every model version, anomaly scores and owed flags; ' +
      'a training running now does not publish them. Lists earlier user exports, which may hold them.',
  })
  deleteUser(@Args() { id }: IdArgs): Promise<UserErasure> {
    return this.users.delete(id);
  }
}
