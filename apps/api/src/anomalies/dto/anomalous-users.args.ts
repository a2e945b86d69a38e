import { ArgsType, Field, Float, Int } from '@nestjs/graphql';
import { LimitArgs } from '../../validation/limit.args';
import { IsIntFrom, IsNumberFrom } from '../../validation/ranges';

export const MAX_ANOMALOUS_USERS = 1000;

@ArgsType()
export class AnomalousUsersArgs extends LimitArgs(50, MAX_ANOMALOUS_USERS) {
  @Field(() => Float, { defaultValue: 0 })
  @IsNumberFrom(0, 100)
  minPercentile!: number;
}

export const MAX_HISTOGRAM_BINS = 100;

@ArgsType()
export class AnomalyHistogramArgs {
  @Field(() => Int, { defaultValue: 20, description: `1..${MAX_HISTOGRAM_BINS}` })
  @IsIntFrom(1, MAX_HISTOGRAM_BINS)
  bins!: number;
}
