import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { QueueModule } from '@app/queue';
import { ExportLinksResolver } from './export-links.resolver';
import { ExportsController } from './exports.controller';
import { ExportsResolver } from './exports.resolver';
import { ExportsService } from './exports.service';

@Module({
  imports: [DatabaseModule, QueueModule, EmbeddingStoreModule],
  controllers: [ExportsController],
  providers: [ExportsResolver, ExportLinksResolver, ExportsService],
  exports: [ExportsService],
})
export class ExportsModule {}
