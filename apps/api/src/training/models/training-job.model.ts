import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-type-json';
import { JobState } from '../../jobs/job-state';
import { ModelVersionModel } from './model-version.model';

@ObjectType()
export class TrainingProgressModel {
  @Field({ description: 'load, tune, train, index, publish, promote or done' }) phase!: string;
  @Field(() => Float) percent!: number;
  @Field(() => Int, { nullable: true }) epoch?: number;
  @Field(() => Int, { nullable: true }) epochs?: number;
  @Field(() => Float, { nullable: true }) loss?: number;
  @Field(() => Float, { nullable: true }) ndcg?: number | null;
}

@ObjectType('TrainingJob')
export class TrainingJobModel {
  @Field(() => ID) id!: string;
  @Field(() => JobState) state!: JobState;
  @Field(() => TrainingProgressModel, { nullable: true }) progress!: TrainingProgressModel | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => Date, { description: 'When it was asked for (enqueued).' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When a worker last started it.' }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field(() => GraphQLJSONObject, { description: 'The overrides it was asked with ({}: the defaults).' })
  config!: Record<string, unknown>;
  @Field({ description: 'Activated even if it measures worse than the live model.' }) force!: boolean;
  @Field(() => ModelVersionModel, { nullable: true, description: 'The version this job trains, once it has started.' })
  modelVersion!: ModelVersionModel | null;
}
