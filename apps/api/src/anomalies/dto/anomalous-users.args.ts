import { ArgsType, Field, Float } from '@nestjs/graphql';
import { IsNumber, Max, Min } from 'class-validator';
import { LimitArgs } from '../../validation/limit.args';

export const MAX_ANOMALOUS_USERS = 1000;
const PERCENTILE = 'must be between 0 and 100';

@ArgsType()
export class AnomalousUsersArgs extends LimitArgs(50, MAX_ANOMALOUS_USERS) {
  @Field(() => Float, { defaultValue: 0 })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: PERCENTILE })
  @Min(0, { message: PERCENTILE })
  @Max(100, { message: PERCENTILE })
  minPercentile!: number;
}
