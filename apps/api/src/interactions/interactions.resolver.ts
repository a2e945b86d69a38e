import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { MAX_INTERACTIONS_PER_BATCH, RecordInteractionsArgs } from './dto/record-interactions.args';
import { InteractionsService } from './interactions.service';
import { RecordInteractionsResult } from './models/record-interactions-result.model';

@Resolver()
export class InteractionsResolver {
  constructor(private readonly interactions: InteractionsService) {}

  @RequiresScope('ingest')
  @Mutation(() => RecordInteractionsResult, {
    description: `Stores up to ${MAX_INTERACTIONS_PER_BATCH} events in one transaction; unknown users and items are created. An invalid event fails the whole batch (BAD_USER_INPUT naming its index and field) and nothing is written.`,
  })
  recordInteractions(@Args() { input }: RecordInteractionsArgs): Promise<RecordInteractionsResult> {
    return this.interactions.record(input);
  }
}
