import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { InteractionPage } from '../interactions/models/interaction.model';
import { User } from './models/user.model';
import { UsersService } from './users.service';

@Resolver(() => User)
export class UsersResolver {
  constructor(private readonly users: UsersService) {}

  @RequiresScope('admin')
  @Query(() => User, { nullable: true, description: 'A user by id; null if recoder has never seen them.' })
  user(@Args('id', { type: () => ID }) id: string): Promise<User | null> {
    return this.users.find(id);
  }

  @RequiresScope('admin')
  @ResolveField(() => InteractionPage, { description: 'Their interactions, newest first.' })
  interactions(
    @Parent() user: User,
    @Args('limit', { type: () => Int, defaultValue: 50 }) limit: number,
    @Args('before', { type: () => String, nullable: true }) before?: string,
  ): Promise<InteractionPage> {
    return this.users.history(user, limit, before);
  }

  @RequiresScope('admin')
  @ResolveField(() => Int)
  interactionCount(@Parent() user: User): Promise<number> {
    return this.users.interactionCount(user);
  }

  @RequiresScope('admin')
  @Mutation(() => Boolean, { description: `Erases a user and all their interactions; false if there was no such user.` })
  deleteUser(@Args('id', { type: () => ID }) id: string): Promise<boolean> {
    return this.users.delete(id);
  }
}
