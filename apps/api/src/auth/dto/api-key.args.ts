import { ArgsType, Field } from '@nestjs/graphql';
import type { ApiScope } from '@app/api-keys';
import { IsKeyName, IsKeyScopes } from '../../validation/input-rules.validators';
import { ApiScopeEnum } from '../models/api-key.model';

/** A key named in an admin mutation. */
@ArgsType()
export class ApiKeyNameArgs {
  @Field({ description: '1-64 letters, digits, ".", "_" or "-"' })
  @IsKeyName()
  name!: string;
}

@ArgsType()
export class CreateApiKeyArgs extends ApiKeyNameArgs {
  @Field(() => [ApiScopeEnum])
  @IsKeyScopes()
  scopes!: ApiScope[];
}
