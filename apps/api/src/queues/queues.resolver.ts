import { Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { QueueState } from './models/queue-state.model';
import { QueuesService } from './queues.service';

@Resolver()
export class QueuesResolver {
  constructor(private readonly service: QueuesService) {}

  @RequiresScope('admin')
  @Query(() => [QueueState], { description: 'Each job queue (training, export, popularity) and its counts.' })
  queues(): Promise<QueueState[]> {
    return this.service.states();
  }
}
