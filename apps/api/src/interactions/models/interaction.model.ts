import { Field, Float, ID, ObjectType } from '@nestjs/graphql';

@ObjectType()
export class Interaction {
  @Field(() => ID)
  itemId!: string;

  @Field()
  type!: string;

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
