import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { EmbeddingKind } from '../embeddings/models/embedding-batch.model';
import { ExportsService } from './exports.service';
import { ExportFormat, ExportJobModel } from './models/export-job.model';

@Resolver()
export class ExportsResolver {
  constructor(private readonly exports: ExportsService) {}

  @RequiresScope('admin')
  @Mutation(() => ExportJobModel, { description: `Writes every user or item vector of a version (default: active) to files in the worker.` })
  exportEmbeddings(
    @Args('kind', { type: () => EmbeddingKind }) kind: EmbeddingKind,
    @Args('format', { type: () => ExportFormat }) format: ExportFormat,
    @Args('version', { type: () => Int, nullable: true }) version?: number,
  ): Promise<ExportJobModel> {
    return this.exports.request(kind, format, version ?? undefined);
  }

  @RequiresScope('admin')
  @Query(() => ExportJobModel, { nullable: true, description: `An export job's state, progress and files.` })
  exportJob(@Args('id', { type: () => ID }) id: string): Promise<ExportJobModel | null> {
    return this.exports.job(id);
  }
}
