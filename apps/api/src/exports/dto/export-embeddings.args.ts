import { ArgsType, Field } from '@nestjs/graphql';
import { EmbeddingKind } from '../../embeddings/models/embedding-batch.model';
import { OptionalVersionArgs } from '../../validation/version.args';
import { ExportFormat } from '../models/export-job.model';

@ArgsType()
export class ExportEmbeddingsArgs extends OptionalVersionArgs {
  @Field(() => EmbeddingKind)
  kind!: EmbeddingKind;

  @Field(() => ExportFormat)
  format!: ExportFormat;
}
