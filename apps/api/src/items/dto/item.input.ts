import { Field, ID, InputType } from '@nestjs/graphql';
import { IsOptional } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-type-json';
import { IsAttributes, IsExternalId } from '../../validation/input-rules.validators';

@InputType()
export class ItemInput {
  @Field(() => ID)
  @IsExternalId()
  id!: string;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Replaces the stored attributes; left out, they are kept. At most 16 KB of JSON, 5 levels deep.',
  })
  @IsOptional()
  @IsAttributes()
  attributes?: Record<string, unknown>;

  @Field({ nullable: true, description: 'Left out: kept (true for a new item).' })
  active?: boolean;
}
