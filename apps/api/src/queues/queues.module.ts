import { Module } from '@nestjs/common';
import { QueueModule } from '@app/queue';
import { QueuesResolver } from './queues.resolver';
import { QueuesService } from './queues.service';

@Module({ imports: [QueueModule], providers: [QueuesResolver, QueuesService] })
export class QueuesModule {}
