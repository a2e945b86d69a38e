import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { ModelRegistryService } from './model-registry.service';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule],
  providers: [ModelRegistryService],
  exports: [ModelRegistryService, EmbeddingStoreModule],
})
export class RegistryModule {}
