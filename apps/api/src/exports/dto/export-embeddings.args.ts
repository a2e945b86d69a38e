import { ArgsType, Field } from '@nestjs/graphql';
import { ExportFormat } from '@app/export';
import { EmbeddingKind } from '../../embeddings/models/embedding-batch.model';
import { LimitArgs } from '../../validation/limit.args';
import { OptionalVersionArgs } from '../../validation/version.args';

@ArgsType()
export class ExportEmbeddingsArgs extends OptionalVersionArgs {
  @Field(() => EmbeddingKind)
  kind!: EmbeddingKind;

  @Field(() => ExportFormat)
  format!: ExportFormat;
}

@ArgsType()
export class ExportJobsArgs extends LimitArgs(20, 100) {}
