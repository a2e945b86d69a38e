import { Field, ID, ObjectType } from '@nestjs/graphql';

@ObjectType()
export class User {
  /** internal key, for field resolvers only */
  key!: number;

  @Field(() => ID)
  id!: string;

  @Field()
  createdAt!: Date;
}
