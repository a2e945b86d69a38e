import { Module } from '@nestjs/common';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { EmbeddingsResolver } from './embeddings.resolver';
import { EmbeddingsService } from './embeddings.service';

@Module({
  imports: [EmbeddingStoreModule],
  providers: [EmbeddingsResolver, EmbeddingsService],
})
export class EmbeddingsModule {}
