import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { QueueModule } from '@app/queue';
import { ModelRegistryService } from './model-registry.service';
import { RegistryMetrics } from './registry-metrics';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule, QueueModule],
  providers: [ModelRegistryService, RegistryMetrics],
  exports: [ModelRegistryService, EmbeddingStoreModule],
})
export class RegistryModule {}
