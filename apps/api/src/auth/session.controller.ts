import { Body, Controller, Delete, Headers, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { UnauthenticatedError } from '../errors/api-error';
import { BrowserSessions, SESSION_COOKIE } from './browser-sessions';
import { bearerKey } from './caller';
import { ScopeAccess } from './scope-access';

/**
 * POST /auth/session with `Authorization: Bearer <key>` (or a JSON body `{"key": "..."}`) sets an
 * HttpOnly session cookie that Bull Board and export downloads accept; DELETE ends it.
 */
@Controller('auth/session')
export class SessionController {
  constructor(
    private readonly sessions: BrowserSessions,
    private readonly access: ScopeAccess,
  ) {}

  @Post()
  @HttpCode(200)
  open(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const given = (body as { key?: unknown } | undefined)?.key;
    const key = bearerKey(authorization) ?? (typeof given === 'string' ? given : undefined);
    if (!key)
      throw new UnauthenticatedError('Send a key: Authorization: Bearer <key>, or the JSON body {"key": "<key>"}');
    const session = this.sessions.open(key);
    reply.setCookie(SESSION_COOKIE, session.value, session.options);
    return {
      name: session.caller.name,
      scopes: [...session.caller.scopes],
      // what PUBLIC_SCOPES opens to every caller besides: a page decides from both what to offer
      publicScopes: [...this.access.publicScopes],
      expiresAt: new Date(session.expiresAt * 1000).toISOString(),
    };
  }

  @Delete()
  @HttpCode(204)
  close(@Res({ passthrough: true }) reply: FastifyReply): void {
    reply.setCookie(SESSION_COOKIE, '', this.sessions.closing());
  }
}
