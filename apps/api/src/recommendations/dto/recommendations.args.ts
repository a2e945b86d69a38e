import { ArgsType, Field, ID } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsOptional, ValidateNested } from 'class-validator';
import { IsExternalId } from '../../validation/input-rules.validators';
import { LimitArgs } from '../../validation/limit.args';
import { ItemFilter } from './item-filter.input';

export const MAX_LIMIT = 500;
/** Items one session may fold in. */
export const MAX_SESSION_ITEMS = 1000;

const PREVIEW =
  'true: an operator looking (the admin console), not a user shown the items; the answer says so, and online metrics leave it out';

/** A ranked list of up to `limit` items that a filter may restrict. */
@ArgsType()
abstract class FilteredArgs extends LimitArgs(20, MAX_LIMIT) {
  @Field({ defaultValue: false, description: PREVIEW })
  preview!: boolean;

  @Field(() => ItemFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => ItemFilter)
  filter?: ItemFilter;
}

@ArgsType()
export class RecommendationsArgs extends FilteredArgs {
  @Field(() => ID)
  @IsExternalId()
  userId!: string;

  @Field({ defaultValue: true })
  excludeSeen!: boolean;
}

const FOR_USER =
  'A known user the answer is for: the items their negative feedback hides (and any other rule hides from them) stay out.';

@ArgsType()
export class SessionRecommendationsArgs extends FilteredArgs {
  @Field(() => [ID])
  @ArrayMaxSize(MAX_SESSION_ITEMS, { message: `must hold at most ${MAX_SESSION_ITEMS} ids` })
  @IsExternalId({ each: true })
  itemIds!: string[];

  @Field(() => ID, { nullable: true, description: FOR_USER })
  @IsOptional()
  @IsExternalId()
  userId?: string | null;
}

@ArgsType()
export class SimilarItemsArgs extends LimitArgs(20, MAX_LIMIT) {
  @Field({ defaultValue: false, description: PREVIEW })
  preview!: boolean;

  @Field(() => ID)
  @IsExternalId()
  itemId!: string;

  @Field(() => ID, { nullable: true, description: FOR_USER })
  @IsOptional()
  @IsExternalId()
  userId?: string | null;
}
