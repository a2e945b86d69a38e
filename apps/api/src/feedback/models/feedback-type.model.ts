import { Field, Float, ObjectType, registerEnumType } from '@nestjs/graphql';
import { FeedbackRole } from '@app/feedback';

registerEnumType(FeedbackRole, {
  name: 'FeedbackRole',
  description: 'What an event means (README: declaring event types).',
  valuesMap: {
    POSITIVE: { description: 'More like this: training input, seen, popularity.' },
    NEGATIVE: {
      description: 'Not this: the item is never recommended to the user, until a later POSITIVE event on it.',
    },
    IMPRESSION: { description: 'The item was shown to the user: not a positive.' },
    IGNORED: { description: 'Stored and listed in the history; nothing else reads it.' },
  },
});

@ObjectType({
  description: "Within [min, max] (inclusive; a missing bound is open), the event's weight gives it this role.",
})
export class ValueCondition {
  @Field(() => FeedbackRole)
  role!: FeedbackRole;

  @Field(() => Float, { nullable: true })
  min!: number | null;

  @Field(() => Float, { nullable: true })
  max!: number | null;
}

@ObjectType({
  description:
    "An event type's rule: the first condition the event's weight meets gives its role, else `role`. A type without a rule is POSITIVE of weight 1.",
})
export class FeedbackType {
  @Field()
  type!: string;

  @Field(() => FeedbackRole)
  role!: FeedbackRole;

  @Field(() => Float, {
    description: "What a POSITIVE event of this type counts in the weighted input, times the event's own weight.",
  })
  weight!: number;

  @Field(() => [ValueCondition])
  conditions!: ValueCondition[];
}
