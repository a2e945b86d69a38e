import { Field, ID, Int, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: 'What deleteUser erased, and the export files it leaves to you.' })
export class UserErasure {
  @Field({
    description:
      'A user by this id was in Postgres. False: none, or erased already; every other copy was erased anyway.',
  })
  found!: boolean;

  @Field(() => Int, {
    description:
      "The user's Redis hashes removed (vector, top items, seen items, flags): one per model version that held them.",
  })
  redisKeys!: number;

  @Field(() => [ID], {
    description:
      'User-embedding exports written (or being written) before the deletion, which may hold the user: recoder does not rewrite files, ' +
      'so delete these or export again (an export started now leaves the user out).',
  })
  earlierExports!: string[];
}
