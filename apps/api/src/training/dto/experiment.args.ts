import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsOptional } from 'class-validator';
import { IsIntFrom } from '../../validation/ranges';

/** An experiment; left out, the running one. */
@ArgsType()
export class ExperimentArgs {
  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsIntFrom(1, 2 ** 31 - 1)
  id?: number;
}
