import { Field, ID, InputType } from '@nestjs/graphql';
import { ArrayMaxSize, IsOptional } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-type-json';
import { IsAttributes, IsExternalId } from '../../validation/input-rules.validators';

/** Ids one filter may list: each is looked up per candidate item. */
export const MAX_FILTER_IDS = 1000;

@InputType({ description: 'Restricts what may be recommended; inactive items never are.' })
export class ItemFilter {
  @Field(() => [ID], { nullable: true, description: `Only these items (at most ${MAX_FILTER_IDS}).` })
  @IsOptional()
  @ArrayMaxSize(MAX_FILTER_IDS, { message: `must hold at most ${MAX_FILTER_IDS} ids` })
  @IsExternalId({ each: true })
  includeIds?: string[];

  @Field(() => [ID], { nullable: true, description: `Never these items (at most ${MAX_FILTER_IDS}).` })
  @IsOptional()
  @ArrayMaxSize(MAX_FILTER_IDS, { message: `must hold at most ${MAX_FILTER_IDS} ids` })
  @IsExternalId({ each: true })
  excludeIds?: string[];

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Attribute equality, e.g. {"genre": "Drama"}; at most 16 KB of JSON, 5 levels deep.',
  })
  @IsOptional()
  @IsAttributes()
  attributes?: Record<string, unknown>;
}
