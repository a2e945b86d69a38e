import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import type { ApiScope } from '@app/api-keys';
import { Credentials } from './credentials';
import { SCOPE_METADATA } from './requires-scope.decorator';
import { ScopeAccess } from './scope-access';

/** Runs before every root and resolved field that declares @RequiresScope: the key in the Authorization header must have it. */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: Credentials,
    private readonly access: ScopeAccess,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.get<ApiScope | undefined>(SCOPE_METADATA, context.getHandler());
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<{ parentType: { name: string }; fieldName: string }>();
    const what = `${info.parentType.name}.${info.fieldName}`;
    // fail closed: a guard without a declared scope is a programming error, and no one may pass it
    if (!scope) throw new Error(`${what} declares no scope`);
    this.access.require(this.credentials.ofApiRequest(gql.getContext<{ req: FastifyRequest }>().req), scope, what);
    return true;
  }
}
