import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { JobState } from '../../jobs/job-state';

// keys equal values: GraphQL shows the keys
export enum ExportFormat {
  NPY = 'NPY',
  NDJSON = 'NDJSON',
}
registerEnumType(ExportFormat, {
  name: 'ExportFormat',
  description: 'NPY: vectors.npy (float32, rows x dim) + ids.txt in the same order; NDJSON: {"id", "vector"} per line.',
});

@ObjectType()
export class ExportFile {
  @Field() name!: string;
  @Field(() => Float) bytes!: number;
  @Field() sha256!: string;
  @Field({ description: 'GET it with an admin key (header or session cookie), or through a signed link (exportDownloadLink).' }) url!: string;
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
  @Field(() => Int, { nullable: true, description: 'Vectors written, once completed.' }) count!: number | null;
  @Field(() => [ExportFile], { description: 'Empty until the job completes.' }) files!: ExportFile[];
}
