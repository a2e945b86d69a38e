import { Args, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { QUERY_COST } from '../graphql/complexity-limit';
import { ExperimentModel } from '../training/models/experiment.model';
import { OnlineMetricsArgs } from './dto/online-metrics.args';
import { ExperimentOnlineModel, OnlineMetricsModel } from './models/online-metrics.model';
import { OnlineMetricsService } from './online-metrics.service';

@Resolver(() => ExperimentModel)
export class OnlineMetricsResolver {
  constructor(private readonly metrics: OnlineMetricsService) {}

  @RequiresScope('admin')
  @Query(() => OnlineMetricsModel, {
    description:
      "A version's online metrics per UTC hour or day: answers, impressions, attributed POSITIVE events by type, CTR and conversion. BAD_USER_INPUT past 744 hours or 366 days.",
  })
  onlineMetrics(@Args() { version, from, to, bucket }: OnlineMetricsArgs): Promise<OnlineMetricsModel> {
    return this.metrics.forVersion(version, from, to, bucket);
  }

  @RequiresScope('admin')
  @ResolveField(() => ExperimentOnlineModel, {
    complexity: QUERY_COST,
    description: "Each arm's online metrics over the experiment and the 95% interval of the CTR difference.",
  })
  online(@Parent() experiment: ExperimentModel): Promise<ExperimentOnlineModel> {
    return this.metrics.forExperiment(experiment);
  }
}
