import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { EXPORT_WRITERS, ExportFormat } from '@app/export';
import { EmbeddingKind } from '../../embeddings/models/embedding-batch.model';
import { JobState } from '../../jobs/job-state';

// each format described by its writer: a new format documents itself
registerEnumType(ExportFormat, {
  name: 'ExportFormat',
  description: 'The files an export writes, listed with their sha256 in the job once it completes.',
  valuesMap: Object.fromEntries(
    Object.entries(ExportFormat).map(([key, format]) => [key, { description: EXPORT_WRITERS[format].description }]),
  ),
});

@ObjectType()
export class ExportFile {
  @Field() name!: string;
  @Field(() => Float) bytes!: number;
  @Field() sha256!: string;
  @Field({
    description: 'GET it with an admin key (header or session cookie), or through a signed link (exportDownloadLink).',
  })
  url!: string;
}

@ObjectType()
export class ExportProgressModel {
  @Field(() => Int) done!: number;
  @Field(() => Int) total!: number;
  @Field(() => Float) percent!: number;
}

@ObjectType('ExportJob')
export class ExportJobModel {
  @Field(() => ID) id!: string;
  @Field(() => JobState) state!: JobState;
  @Field(() => ExportProgressModel, { nullable: true }) progress!: ExportProgressModel | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => Int, { nullable: true }) version!: number | null;
  @Field(() => EmbeddingKind) kind!: EmbeddingKind;
  @Field(() => ExportFormat) format!: ExportFormat;
  @Field(() => Date, { description: 'When it was asked for.' }) createdAt!: Date;
  @Field(() => Int, { nullable: true, description: 'Vectors written, once completed.' }) count!: number | null;
  @Field(() => [ExportFile], { description: 'Empty until the job completes.' }) files!: ExportFile[];
}
