import { Module } from '@nestjs/common';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { ExportEmbeddingsProcessor } from './export-embeddings.processor';
import { ExportService } from './export.service';

@Module({
  imports: [EmbeddingStoreModule],
  providers: [ExportEmbeddingsProcessor, ExportService],
})
export class ExportModule {}
