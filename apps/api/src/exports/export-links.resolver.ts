import { Args, Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { BrowserAccess, MAX_LINK_SECONDS } from '../auth/browser-access';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { ExportDownloadLinkArgs } from './dto/export-download-link.args';
import { exportFilePath } from './export-file-path';
import { ExportsService } from './exports.service';

@ObjectType()
export class DownloadLink {
  @Field({ description: 'Path and query to GET, no key needed until it expires.' }) url!: string;
  @Field(() => Date) expiresAt!: Date;
}

@Resolver()
export class ExportLinksResolver {
  constructor(
    private readonly exports: ExportsService,
    private readonly access: BrowserAccess,
  ) {}

  @RequiresScope('admin')
  @Query(() => DownloadLink, {
    description: `A signed link to one file of a finished export, good for \`seconds\` (1 to ${MAX_LINK_SECONDS}).`,
  })
  async exportDownloadLink(@Args() { id, file, seconds }: ExportDownloadLinkArgs): Promise<DownloadLink> {
    const job = await this.exports.job(id);
    if (!job?.files.some((f) => f.name === file))
      throw new ApiError(ApiErrorCode.NotFound, `Export ${id} has no finished file ${file}`);
    return this.access.signedLink(exportFilePath(id, file), seconds);
  }
}
