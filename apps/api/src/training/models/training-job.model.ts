import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { JobState } from '../../jobs/job-state';
import { ModelVersionModel } from './model-version.model';

@ObjectType()
export class TrainingProgressModel {
  @Field({ description: 'load, tune, train, publish, promote or done' }) phase!: string;
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
  @Field(() => ModelVersionModel, { nullable: true, description: 'The version this job trains, once it has started.' })
  modelVersion!: ModelVersionModel | null;
}
