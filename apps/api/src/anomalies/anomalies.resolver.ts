import { Args, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { DECODE_COST } from '../graphql/complexity-limit';
import { UserIdArgs } from '../validation/id.args';
import { AnomalousUsersArgs, AnomalyHistogramArgs } from './dto/anomalous-users.args';
import { AnomaliesService } from './anomalies.service';
import { AnomalyHistogram } from './models/anomaly-histogram.model';
import { UserAnomaly } from './models/user-anomaly.model';

@Resolver()
export class AnomaliesResolver {
  constructor(private readonly anomalies: AnomaliesService) {}

  @RequiresScope('admin')
  @Query(() => UserAnomaly, {
    nullable: true,
    complexity: DECODE_COST,
    description: "The user's anomaly score under the active model; null without a model or a history.",
  })
  userAnomaly(@Args() { userId }: UserIdArgs): Promise<UserAnomaly | null> {
    return this.anomalies.forUser(userId);
  }

  @RequiresScope('admin')
  @Query(() => [UserAnomaly], {
    description: 'The users whose histories the active model finds most surprising, highest score first.',
  })
  anomalousUsers(@Args() { limit, minPercentile }: AnomalousUsersArgs): Promise<UserAnomaly[]> {
    return this.anomalies.mostAnomalous(limit, minPercentile);
  }

  @RequiresScope('admin')
  @Query(() => AnomalyHistogram, {
    nullable: true,
    description: "The active version's anomaly scores in bins of equal width; null without a model.",
  })
  anomalyHistogram(@Args() { bins }: AnomalyHistogramArgs): Promise<AnomalyHistogram | null> {
    return this.anomalies.histogram(bins);
  }
}
