import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType()
export class RecordInteractionsResult {
  @Field(() => Int, { description: 'Events stored by this call.' })
  accepted!: number;

  @Field(() => Int, {
    description: 'Events skipped because they were already stored (same eventId, or same user, item, type and time).',
  })
  duplicates!: number;
}
