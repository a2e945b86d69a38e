import { Field, Float, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: "A job queue's counts, as Bull Board shows them." })
export class QueueState {
  @Field({ description: 'training, export or popularity' }) name!: string;
  @Field({ description: 'Workers take no new job from it.' }) paused!: boolean;
  @Field(() => Float, { description: 'Waiting for a worker (prioritized and waiting on children included).' })
  waiting!: number;
  @Field(() => Float) active!: number;
  @Field(() => Float, { description: 'Waiting for a retry or a set time.' }) delayed!: number;
  @Field(() => Float, { description: 'Kept: the last 1000.' }) completed!: number;
  @Field(() => Float, { description: 'Kept: every one.' }) failed!: number;
}
