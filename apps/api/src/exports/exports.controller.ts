import { Controller, Get, NotFoundException, Param, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AdminGuard } from '../auth/admin.guard';
import { ApiError } from '../errors/api-error';
import { ExportsService } from './exports.service';

/** GET /exports/:id/:file with the admin key: a finished export's file, streamed. */
@Controller('exports')
@UseGuards(AdminGuard)
export class ExportsController {
  constructor(private readonly exports: ExportsService) {}

  @Get(':id/:file')
  async download(@Param('id') id: string, @Param('file') file: string, @Res() reply: FastifyReply): Promise<void> {
    try {
      const { stream, bytes } = await this.exports.open(id, file);
      reply.header('content-type', 'application/octet-stream').header('content-disposition', `attachment; filename="${file}"`);
      if (bytes >= 0) reply.header('content-length', bytes);
      await reply.send(stream);
    } catch (err) {
      if (err instanceof ApiError) throw new NotFoundException(err.message);
      throw err;
    }
  }
}
