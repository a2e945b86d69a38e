import { ArgsType, Field, Float } from '@nestjs/graphql';
import { LimitArgs } from '../../validation/limit.args';
import { IsNumberFrom } from '../../validation/ranges';

export const MAX_ANOMALOUS_USERS = 1000;

@ArgsType()
export class AnomalousUsersArgs extends LimitArgs(50, MAX_ANOMALOUS_USERS) {
  @Field(() => Float, { defaultValue: 0 })
  @IsNumberFrom(0, 100)
  minPercentile!: number;
}
