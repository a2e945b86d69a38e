import { Field, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ApiScope, SCOPES } from '@app/api-keys';

/** The scopes as a GraphQL enum, spelt as PUBLIC_SCOPES and `npm run keys` spell them. */
export const ApiScopeEnum = Object.fromEntries(SCOPES.map((s) => [s, s])) as { [S in ApiScope]: S };
registerEnumType(ApiScopeEnum, { name: 'ApiScope', description: 'What a key may do (README: Security).' });

@ObjectType()
export class ApiKey {
  @Field() name!: string;
  @Field(() => [ApiScopeEnum]) scopes!: ApiScope[];
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'Written in batches (every 30 s), not per request.' })
  lastUsedAt!: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType()
export class CreatedApiKey {
  @Field({ description: 'The key itself: shown this once, never stored (only its SHA-256 is).' }) key!: string;
  @Field(() => ApiKey) apiKey!: ApiKey;
}
