import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { ItemsResolver } from './items.resolver';
import { ItemsService } from './items.service';

@Module({
  imports: [DatabaseModule],
  providers: [ItemsResolver, ItemsService],
})
export class ItemsModule {}
