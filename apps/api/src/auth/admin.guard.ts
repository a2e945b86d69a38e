import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import { EnvVars } from '@app/config';
import { UnauthenticatedError } from '../errors/api-error';
import { checkAdminKey } from './admin-key';

/** Lets a request through only with `Authorization: Bearer <ADMIN_API_KEY>`; none at all while the key is unset. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly env: EnvVars) {}

  canActivate(context: ExecutionContext): boolean {
    const check = checkAdminKey(requestOf(context)?.headers.authorization, this.env.ADMIN_API_KEY);
    if (!check.ok) throw new UnauthenticatedError(check.reason);
    return true;
  }
}

function requestOf(context: ExecutionContext): FastifyRequest | undefined {
  if (context.getType<string>() === 'graphql') return GqlExecutionContext.create(context).getContext().req;
  return context.switchToHttp().getRequest<FastifyRequest>();
}
