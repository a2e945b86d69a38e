import { Field, Float, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-type-json';
import { ModelStatus } from '@app/database';

registerEnumType(ModelStatus, { name: 'ModelStatus' });

@ObjectType()
export class RankingMetrics {
  @Field(() => Float) ndcg100!: number;
  @Field(() => Float) recall20!: number;
  @Field(() => Float) recall50!: number;
}

@ObjectType({
  description: 'What the quality gate compared: the live model and this one, scored on the same held-out users.',
})
export class GateComparisonModel {
  @Field(() => Int) liveVersion!: number;
  @Field(() => Float) liveNdcg100!: number;
  @Field(() => Float) candidateNdcg100!: number;
  @Field(() => Int) users!: number;
}

@ObjectType({
  description:
    'Measured on held-out users, left out of training and early stopping: their fold-in items in, their other items to find.',
})
export class ModelMetricsModel extends RankingMetrics {
  @Field(() => RankingMetrics, { nullable: true, description: 'Most-popular on the same users, for comparison.' })
  popularity?: RankingMetrics;

  @Field(() => Int, { nullable: true, description: 'Users the metrics were measured on.' })
  heldOutUsers?: number;

  @Field(() => Int, {
    nullable: true,
    description: 'Users whose held-out items picked the epoch (early stopping); not the heldOutUsers.',
  })
  validationUsers?: number;

  @Field(() => GateComparisonModel, {
    nullable: true,
    description:
      'Null for a first model, or when the live model could not be scored (the gate then compared the stored metrics).',
  })
  gate?: GateComparisonModel;
}

@ObjectType()
export class EpochPointModel {
  @Field(() => Int) epoch!: number;
  @Field(() => Float) loss!: number;
  @Field(() => Float, { nullable: true }) ndcg!: number | null;
  @Field(() => Float) seconds!: number;
}

@ObjectType('ModelVersion')
export class ModelVersionModel {
  @Field(() => Int) version!: number;
  @Field(() => ModelStatus) status!: ModelStatus;
  @Field(() => ModelMetricsModel, { nullable: true }) metrics!: ModelMetricsModel | null;
  @Field(() => GraphQLJSONObject) config!: Record<string, unknown>;
  @Field(() => Int) users!: number;
  @Field(() => Int) items!: number;
  @Field(() => Float) interactions!: number;
  @Field(() => Date, { nullable: true, description: 'Newest interaction time in the training data.' })
  dataWatermark!: Date | null;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) trainedAt!: Date | null;
  @Field(() => Date, { nullable: true }) activatedAt!: Date | null;
  @Field(() => [EpochPointModel]) lossCurve!: EpochPointModel[];
  @Field(() => GraphQLJSONObject, {
    description:
      'Seconds per phase: load, tune (when the retrain searched), train, index (a catalogue of at least ANN_MIN_ITEMS items), publish, promote.',
  })
  timings!: Record<string, number>;
  @Field(() => String, { nullable: true }) backend!: string | null;
  @Field(() => String, { nullable: true, description: 'Why it failed, or why it was not activated.' }) error!:
    string | null;
}
