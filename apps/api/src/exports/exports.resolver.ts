import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ADMIN_ONLY_NOTE, AdminOnly } from '../auth/admin-only.decorator';
import { IdArgs } from '../validation/id.args';
import { ExportEmbeddingsArgs } from './dto/export-embeddings.args';
import { ExportsService } from './exports.service';
import { ExportJobModel } from './models/export-job.model';

@Resolver()
export class ExportsResolver {
  constructor(private readonly exports: ExportsService) {}

  @AdminOnly()
  @Mutation(() => ExportJobModel, { description: `${ADMIN_ONLY_NOTE} Writes every user or item vector of a version (default: active) to files in the worker.` })
  exportEmbeddings(@Args() { kind, format, version }: ExportEmbeddingsArgs): Promise<ExportJobModel> {
    return this.exports.request(kind, format, version ?? undefined);
  }

  @AdminOnly()
  @Query(() => ExportJobModel, { nullable: true, description: `${ADMIN_ONLY_NOTE} An export job's state, progress and files.` })
  exportJob(@Args() { id }: IdArgs): Promise<ExportJobModel | null> {
    return this.exports.job(id);
  }
}
