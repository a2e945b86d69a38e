import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { EmbeddingStoreModule } from '@app/embedding-store';
import { InteractionsResolver } from './interactions.resolver';
import { InteractionsService } from './interactions.service';
import { StaleFlagsService } from './stale-flags.service';

@Module({
  imports: [DatabaseModule, EmbeddingStoreModule],
  providers: [InteractionsResolver, InteractionsService, StaleFlagsService],
})
export class InteractionsModule {}
