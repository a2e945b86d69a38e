import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ModelVersionModel } from './model-version.model';

// keys equal values: GraphQL shows the keys
export enum TrainingJobState {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
registerEnumType(TrainingJobState, { name: 'TrainingJobState' });

@ObjectType()
export class TrainingProgressModel {
  @Field({ description: 'load, train, publish, promote or done' }) phase!: string;
  @Field(() => Float) percent!: number;
  @Field(() => Int, { nullable: true }) epoch?: number;
  @Field(() => Int, { nullable: true }) epochs?: number;
  @Field(() => Float, { nullable: true }) loss?: number;
  @Field(() => Float, { nullable: true }) ndcg?: number | null;
}

@ObjectType('TrainingJob')
export class TrainingJobModel {
  @Field(() => ID) id!: string;
  @Field(() => TrainingJobState) state!: TrainingJobState;
  @Field(() => TrainingProgressModel, { nullable: true }) progress!: TrainingProgressModel | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => ModelVersionModel, { nullable: true, description: 'The version this job trains, once it has started.' })
  modelVersion!: ModelVersionModel | null;
}
