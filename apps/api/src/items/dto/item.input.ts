import { Field, ID, InputType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-type-json';

@InputType()
export class ItemInput {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Replaces the stored attributes; left out, they are kept.' })
  attributes?: Record<string, unknown>;

  @Field({ nullable: true, description: 'Left out: kept (true for a new item).' })
  active?: boolean;
}
