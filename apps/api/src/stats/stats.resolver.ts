import { Field, Float, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { StatsRepository } from '@app/database';
import { RequiresScope } from '../auth/requires-scope.decorator';

@ObjectType()
export class Stats {
  // Float: counts can pass GraphQL Int's 2^31
  @Field(() => Float) users!: number;
  @Field(() => Float) items!: number;
  @Field(() => Float) interactions!: number;
  @Field(() => Date, { nullable: true }) newestInteractionAt!: Date | null;
}

@Resolver(() => Stats)
export class StatsResolver {
  constructor(private readonly store: StatsRepository) {}

  @RequiresScope('admin')
  @Query(() => Stats, { description: 'What the store holds.' })
  stats(): Promise<Stats> {
    return this.store.storeStats();
  }
}
