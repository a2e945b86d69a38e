import { ArgsType, Args, Field, Float, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { StatsRepository } from '@app/database';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { IsIntFrom } from '../validation/ranges';

@ObjectType()
export class Stats {
  // Float: counts can pass GraphQL Int's 2^31
  @Field(() => Float) users!: number;
  @Field(() => Float) items!: number;
  @Field(() => Float) interactions!: number;
  @Field(() => Date, { nullable: true }) newestInteractionAt!: Date | null;
}

@ObjectType()
export class HourlyCount {
  @Field(() => Date, { description: 'Start of the clock hour.' }) hour!: Date;
  @Field(() => Float) interactions!: number;
}

/** A week of hours at most: one grouped count over the rows recorded since. */
export const MAX_INGEST_HOURS = 168;

@ArgsType()
export class IngestRateArgs {
  @Field(() => Int, { defaultValue: 24, description: `1..${MAX_INGEST_HOURS}` })
  @IsIntFrom(1, MAX_INGEST_HOURS)
  hours!: number;
}

@Resolver(() => Stats)
export class StatsResolver {
  constructor(private readonly store: StatsRepository) {}

  @RequiresScope('admin')
  @Query(() => Stats, { description: 'What the store holds.' })
  stats(): Promise<Stats> {
    return this.store.storeStats();
  }

  @RequiresScope('admin')
  @Query(() => [HourlyCount], {
    description:
      'Interactions recorded in each of the last `hours` clock hours (by when they were stored, not occurredAt), oldest first; the last hour is the current, partial one.',
  })
  ingestRate(@Args() { hours }: IngestRateArgs): Promise<HourlyCount[]> {
    return this.store.ingestPerHour(hours);
  }
}
