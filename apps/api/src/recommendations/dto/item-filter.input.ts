import { Field, ID, InputType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-type-json';

@InputType({ description: 'Restricts what may be recommended; inactive items never are.' })
export class ItemFilter {
  @Field(() => [ID], { nullable: true, description: 'Only these items.' }) includeIds?: string[];
  @Field(() => [ID], { nullable: true, description: 'Never these items.' }) excludeIds?: string[];
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Attribute equality, e.g. {"genre": "Drama"}.' })
  attributes?: Record<string, unknown>;
}
