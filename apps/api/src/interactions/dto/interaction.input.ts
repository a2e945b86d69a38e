import { Field, Float, ID, InputType } from '@nestjs/graphql';

@InputType({ description: 'One thing a user did to an item.' })
export class InteractionInput {
  @Field(() => ID)
  userId!: string;

  @Field(() => ID)
  itemId!: string;

  @Field({ defaultValue: 'view', description: 'view, click, purchase, rating, or a type of your own.' })
  type!: string;

  @Field(() => Float, { defaultValue: 1, description: 'Strength of the signal, e.g. the rating.' })
  weight!: number;

  @Field({ nullable: true, description: 'When it happened (default: when recorded).' })
  occurredAt?: Date;

  @Field({ nullable: true, description: 'Your id of the event: a retried batch with the same ids is not counted twice.' })
  eventId?: string;
}
