import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { IdArgs } from '../validation/id.args';
import { ExportEmbeddingsArgs, ExportJobsArgs } from './dto/export-embeddings.args';
import { ExportsService } from './exports.service';
import { ExportJobModel } from './models/export-job.model';

@Resolver()
export class ExportsResolver {
  constructor(private readonly exports: ExportsService) {}

  @RequiresScope('admin')
  @Mutation(() => ExportJobModel, {
    description: `Writes every user or item vector of a version (default: active) to files in the worker.`,
  })
  exportEmbeddings(@Args() { kind, format, version }: ExportEmbeddingsArgs): Promise<ExportJobModel> {
    return this.exports.request(kind, format, version ?? undefined);
  }

  @RequiresScope('admin')
  @Query(() => ExportJobModel, { nullable: true, description: `An export job's state, progress and files.` })
  exportJob(@Args() { id }: IdArgs): Promise<ExportJobModel | null> {
    return this.exports.job(id);
  }

  @RequiresScope('admin')
  @Query(() => [ExportJobModel], {
    description: `Export jobs, newest first (the last 1000 completed, every failed one, and any queued or running).`,
  })
  exportJobs(@Args() { limit }: ExportJobsArgs): Promise<ExportJobModel[]> {
    return this.exports.jobs(limit);
  }
}
