import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { EmbeddingsResolver, MapPagePointResolver } from './embeddings.resolver';
import { EmbeddingsService } from './embeddings.service';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule],
  providers: [EmbeddingsResolver, MapPagePointResolver, EmbeddingsService],
})
export class EmbeddingsModule {}
