import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { Extensions } from '@nestjs/graphql';
import type { ApiScope } from '@app/api-keys';
import { ScopeGuard } from './scope.guard';

export const SCOPE_METADATA = 'recoder:scope';

/**
 * The scope a key needs to call this root field or resolved field. Every one declares it: the
 * scope is in the built schema (field extensions, and a note in the description) and a test walks
 * the schema to prove that none is missing.
 */
export const RequiresScope = (scope: ApiScope) =>
  applyDecorators(SetMetadata(SCOPE_METADATA, scope), Extensions({ scope }), UseGuards(ScopeGuard));
