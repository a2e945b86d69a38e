import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { InteractionsResolver } from './interactions.resolver';
import { InteractionsService } from './interactions.service';

@Module({
  imports: [DatabaseModule],
  providers: [InteractionsResolver, InteractionsService],
})
export class InteractionsModule {}
