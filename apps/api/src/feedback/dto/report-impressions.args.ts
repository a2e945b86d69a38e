import { ArgsType, Field, ID } from '@nestjs/graphql';
import { ArrayMaxSize, IsString, MaxLength } from 'class-validator';
import { IsExternalId } from '../../validation/input-rules.validators';
import { MAX_LIMIT } from '../../recommendations/dto/recommendations.args';

/** An answer of MAX_LIMIT items and a 256-character user id: about 920 characters; room to spare. */
export const MAX_RECOMMENDATION_ID_LENGTH = 2048;

@ArgsType()
export class ReportImpressionsArgs {
  @Field({ description: "The answer's recommendationId." })
  @IsString()
  @MaxLength(MAX_RECOMMENDATION_ID_LENGTH)
  recommendationId!: string;

  @Field(() => [ID], { description: 'The items of that answer the user was actually shown.' })
  @ArrayMaxSize(MAX_LIMIT, { message: `must hold at most ${MAX_LIMIT} ids` })
  @IsExternalId({ each: true })
  itemIds!: string[];
}
