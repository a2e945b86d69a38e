import { Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { ExperimentArmRole } from '../../training/models/experiment.model';

@ObjectType('AttributedEvents', { description: 'Attributed POSITIVE events of one type.' })
export class AttributedEventsModel {
  @Field() type!: string;
  @Field(() => Int) count!: number;
}

@ObjectType('OnlineCounts', {
  description:
    "What users did with a version's answers: answers given (previews not counted), impressions reported, POSITIVE events attributed to its answers (by recommendationId, or an impression within ATTRIBUTION_WINDOW_MINUTES).",
})
export class OnlineCountsModel {
  @Field(() => Int) answers!: number;
  @Field(() => Int) impressions!: number;
  @Field(() => Int, { description: 'Attributed POSITIVE events of every type.' }) positives!: number;
  @Field(() => [AttributedEventsModel]) positivesByType!: AttributedEventsModel[];
  @Field(() => Int, {
    description: 'Attributed events of the ONLINE_CONVERSION_TYPES (every POSITIVE type when unset).',
  })
  conversions!: number;
  @Field(() => Float, { nullable: true, description: 'positives / impressions; null without impressions.' })
  ctr!: number | null;
  @Field(() => Float, { nullable: true, description: 'conversions / answers; null without answers.' })
  conversionRate!: number | null;
}

@ObjectType('OnlineMetricsBucket')
export class OnlineBucketModel extends OnlineCountsModel {
  @Field({ description: 'The UTC hour or day it begins.' }) start!: Date;
}

@ObjectType('OnlineMetrics')
export class OnlineMetricsModel {
  @Field(() => Int) version!: number;
  @Field() from!: Date;
  @Field() to!: Date;
  @Field(() => [OnlineBucketModel], { description: 'Buckets with any count, oldest first.' })
  buckets!: OnlineBucketModel[];
  @Field(() => OnlineCountsModel, { description: 'The whole range.' }) total!: OnlineCountsModel;
}

@ObjectType('ExperimentArmOnline')
export class ExperimentArmOnlineModel extends OnlineCountsModel {
  @Field(() => ExperimentArmRole) role!: ExperimentArmRole;
  @Field(() => Int) version!: number;
  @Field(() => Float, {
    nullable: true,
    description:
      "The CTR's standard error, with users hashed into 64 groups as independent clusters; null with fewer than two groups.",
  })
  ctrStandardError!: number | null;
}

@ObjectType('CtrDifference', { description: "The canary's CTR minus the control's, with its 95% interval." })
export class CtrDifferenceModel {
  @Field(() => Float) difference!: number;
  @Field(() => Float) low!: number;
  @Field(() => Float) high!: number;
}

@ObjectType('ExperimentOnline', {
  description: 'Online metrics of each arm from the start of the experiment to its end (or now).',
})
export class ExperimentOnlineModel {
  @Field(() => [ExperimentArmOnlineModel]) arms!: ExperimentArmOnlineModel[];
  @Field(() => CtrDifferenceModel, {
    nullable: true,
    description: 'null until both arms have impressions in two groups or more.',
  })
  ctrDifference!: CtrDifferenceModel | null;
}
