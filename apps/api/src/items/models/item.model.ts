import { Field, ID, ObjectType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-type-json';

@ObjectType()
export class Item {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLJSONObject, { description: 'Free-form attributes, e.g. {"genre": "Drama"}.' })
  attributes!: Record<string, unknown>;

  @Field({ description: 'Inactive items are never recommended.' })
  active!: boolean;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}
