import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { EnvVars } from '@app/config';
import { UnauthenticatedError } from '../errors/api-error';

/** Lets a request through only with `Authorization: Bearer <ADMIN_API_KEY>`; none at all while the key is unset. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly key: Buffer | null;

  constructor(env: EnvVars) {
    this.key = env.ADMIN_API_KEY ? Buffer.from(env.ADMIN_API_KEY) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = requestOf(context);
    if (!this.key) throw new UnauthenticatedError('Admin operations are disabled: ADMIN_API_KEY is not set');
    const header = request?.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    // constant time, so the key cannot be guessed byte by byte
    if (given.length !== this.key.length || !timingSafeEqual(given, this.key)) {
      throw new UnauthenticatedError('Admin key required: Authorization: Bearer <ADMIN_API_KEY>');
    }
    return true;
  }
}

function requestOf(context: ExecutionContext): FastifyRequest | undefined {
  if (context.getType<string>() === 'graphql') return GqlExecutionContext.create(context).getContext().req;
  return context.switchToHttp().getRequest<FastifyRequest>();
}
