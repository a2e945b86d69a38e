import { Controller, Get, NotFoundException, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BrowserAccess } from '../auth/browser-access';
import { ApiError } from '../errors/api-error';
import { exportFilePath } from './export-file-path';
import { ExportsService } from './exports.service';

/**
 * GET /exports/:id/:file: a finished export's file, streamed. Needs an admin key (Authorization
 * header or session cookie) or a signed link from exportDownloadLink.
 */
@Controller('exports')
export class ExportsController {
  constructor(
    private readonly exports: ExportsService,
    private readonly access: BrowserAccess,
  ) {}

  @Get(':id/:file')
  async download(
    @Param('id') id: string,
    @Param('file') file: string,
    @Query('expires') expires: string | undefined,
    @Query('signature') signature: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    this.access.requireDownload(request, exportFilePath(id, file), { expires, signature });
    try {
      const { stream, bytes } = await this.exports.open(id, file);
      reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${file}"`);
      if (bytes >= 0) reply.header('content-length', bytes);
      await reply.send(stream);
    } catch (err) {
      if (err instanceof ApiError) throw new NotFoundException(err.message);
      throw err;
    }
  }
}
