import { Field, Float, ID, ObjectType } from '@nestjs/graphql';
import { FeedbackRole } from '@app/feedback';
import '../../feedback/models/feedback-type.model';

@ObjectType()
export class Interaction {
  @Field(() => ID)
  itemId!: string;

  @Field()
  type!: string;

  @Field(() => FeedbackRole, { description: "What the event means under its type's rule now." })
  role!: FeedbackRole;

  @Field(() => Float)
  weight!: number;

  @Field()
  occurredAt!: Date;

  @Field(() => String, { nullable: true })
  eventId!: string | null;
}

@ObjectType()
export class InteractionPage {
  @Field(() => [Interaction])
  items!: Interaction[];

  @Field(() => String, {
    nullable: true,
    description: 'Pass as `before` for the next (older) page; null on the last page.',
  })
  nextCursor!: string | null;
}
