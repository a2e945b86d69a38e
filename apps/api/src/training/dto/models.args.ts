import { ArgsType, Field } from '@nestjs/graphql';
import { IsEnum, IsOptional } from 'class-validator';
import { JobState } from '../../jobs/job-state';
import { LimitArgs } from '../../validation/limit.args';

@ArgsType()
export class ModelsArgs extends LimitArgs(20, 100) {}

@ArgsType()
export class TrainingJobsArgs extends LimitArgs(20, 100) {
  @Field(() => [JobState], { nullable: true, description: 'Only jobs in these states (default: every state).' })
  @IsOptional()
  @IsEnum(JobState, { each: true, message: 'must be JobState values' })
  states?: JobState[];
}
