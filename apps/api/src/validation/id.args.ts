import { ArgsType, Field, ID } from '@nestjs/graphql';
import { IsExternalId } from './input-rules.validators';

/** A field that takes one id (a user, an item, a job). */
@ArgsType()
export class IdArgs {
  @Field(() => ID)
  @IsExternalId()
  id!: string;
}

@ArgsType()
export class UserIdArgs {
  @Field(() => ID)
  @IsExternalId()
  userId!: string;
}
