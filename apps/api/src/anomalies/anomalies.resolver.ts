import { Args, Float, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { AnomaliesService } from './anomalies.service';
import { UserAnomaly } from './models/user-anomaly.model';

@Resolver()
export class AnomaliesResolver {
  constructor(private readonly anomalies: AnomaliesService) {}

  @RequiresScope('admin')
  @Query(() => UserAnomaly, { nullable: true, description: 'The user\'s anomaly score under the active model; null without a model or a history.' })
  userAnomaly(@Args('userId', { type: () => ID }) userId: string): Promise<UserAnomaly | null> {
    return this.anomalies.forUser(userId);
  }

  @RequiresScope('admin')
  @Query(() => [UserAnomaly], { description: `The users whose histories the active model finds most surprising, highest score first.` })
  anomalousUsers(
    @Args('limit', { type: () => Int, defaultValue: 50 }) limit: number,
    @Args('minPercentile', { type: () => Float, defaultValue: 0 }) minPercentile: number,
  ): Promise<UserAnomaly[]> {
    return this.anomalies.mostAnomalous(limit, minPercentile);
  }
}
