import { Injectable } from '@nestjs/common';
import { ApiScope, parseScopes } from '@app/api-keys';
import { EnvVars } from '@app/config';
import { ForbiddenError, UnauthenticatedError } from '../errors/api-error';
import type { Caller } from './caller';

/** The one rule: a caller may use a scope its key has, or one PUBLIC_SCOPES opens to everyone. */
@Injectable()
export class ScopeAccess {
  readonly publicScopes: ReadonlySet<ApiScope>;

  constructor(env: EnvVars) {
    this.publicScopes = new Set(parseScopes(env.PUBLIC_SCOPES));
  }

  /** Throws UNAUTHENTICATED (no or bad credentials) or FORBIDDEN (a key without the scope); `what` names the operation. */
  require(caller: Caller, scope: ApiScope, what: string): void {
    // bad credentials are refused even where no key is needed: a client with a revoked key should learn it
    if (caller.kind === 'invalid') throw new UnauthenticatedError(`${caller.reason}; ${what} needs scope "${scope}"`);
    if (this.publicScopes.has(scope)) return;
    if (caller.kind === 'anonymous') {
      throw new UnauthenticatedError(`API key required: ${what} needs scope "${scope}" (Authorization: Bearer <key>)`);
    }
    if (!caller.scopes.has(scope))
      throw new ForbiddenError(`API key "${caller.name}" lacks scope "${scope}", which ${what} needs`, scope);
  }
}
