import { ArgsType, Field, ID } from '@nestjs/graphql';
import { ArrayMaxSize } from 'class-validator';
import { IsExternalId } from '../../validation/input-rules.validators';
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
