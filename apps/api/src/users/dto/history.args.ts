import { ArgsType, Field } from '@nestjs/graphql';
import { IsOptional } from 'class-validator';
import { IsCursor } from '../../validation/input-rules.validators';
import { LimitArgs } from '../../validation/limit.args';

export const MAX_HISTORY_PAGE = 500;

@ArgsType()
export class HistoryArgs extends LimitArgs(50, MAX_HISTORY_PAGE) {
  @Field(() => String, { nullable: true, description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsCursor()
  before?: string;
}
