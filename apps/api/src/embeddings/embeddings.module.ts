import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { EmbeddingsResolver } from './embeddings.resolver';
import { EmbeddingsService } from './embeddings.service';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule],
  providers: [EmbeddingsResolver, EmbeddingsService],
})
export class EmbeddingsModule {}
