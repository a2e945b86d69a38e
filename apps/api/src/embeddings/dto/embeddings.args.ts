import { ArgsType, Field, ID, Int } from '@nestjs/graphql';
import { ArrayMaxSize, IsOptional, Matches } from 'class-validator';
import { IsExternalId } from '../../validation/input-rules.validators';
import { IsIntFrom } from '../../validation/ranges';
import { OptionalVersionArgs } from '../../validation/version.args';
import { EmbeddingKind } from '../models/embedding-batch.model';

export const MAX_EMBEDDING_IDS = 1000;

@ArgsType()
export class EmbeddingsArgs extends OptionalVersionArgs {
  @Field(() => EmbeddingKind)
  kind!: EmbeddingKind;

  @Field(() => [ID])
  @ArrayMaxSize(MAX_EMBEDDING_IDS, { message: `must hold at most ${MAX_EMBEDDING_IDS} ids` })
  @IsExternalId({ each: true })
  ids!: string[];
}

export const MAX_MAP_PAGE = 10_000;

@ArgsType()
export class EmbeddingMapPageArgs extends OptionalVersionArgs {
  @Field(() => EmbeddingKind)
  kind!: EmbeddingKind;

  @Field(() => Int, { defaultValue: 5000, description: `Points per page, 1..${MAX_MAP_PAGE}` })
  @IsIntFrom(1, MAX_MAP_PAGE)
  limit!: number;

  @Field(() => String, { nullable: true, description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @Matches(/^[0-9]{1,10}$/, { message: 'must be a nextCursor the API handed out' })
  after?: string;
}
