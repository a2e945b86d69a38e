import { Injectable } from '@nestjs/common';
import { fastifyCookie } from '@fastify/cookie';
import { hashApiKey } from '@app/api-keys';
import { EnvVars } from '@app/config';
import { UnauthenticatedError } from '../errors/api-error';
import { ApiKeyCache } from './api-key-cache.service';
import type { Caller } from './caller';
import { expiresIn, Signatures } from './signatures';

export const SESSION_COOKIE = 'recoder_session';
export const SESSION_SECONDS = 8 * 3600;

/**
 * Browser sessions for the pages and downloads a browser opens (Bull Board, export files): the
 * cookie holds the key's hash, an expiry and a signature, never the key, and is checked against
 * the key cache on every request, so revoking the key ends its sessions.
 */
@Injectable()
export class BrowserSessions {
  constructor(
    private readonly keys: ApiKeyCache,
    private readonly signatures: Signatures,
    private readonly env: EnvVars,
  ) {}

  /** A Set-Cookie header opening a session for the key; UNAUTHENTICATED for a key that is not valid. */
  open(key: string): { setCookie: string; caller: Extract<Caller, { kind: 'key' }>; expiresAt: number } {
    const keyHash = hashApiKey(key);
    const caller = this.keys.callerOfHash(keyHash);
    if (caller.kind !== 'key') throw new UnauthenticatedError('API key not recognised (unknown or revoked)');
    const expiresAt = expiresIn(SESSION_SECONDS);
    const token = `${keyHash}.${expiresAt}.${this.signatures.sign(keyHash, expiresAt)}`;
    return { setCookie: this.cookie(token, SESSION_SECONDS), caller, expiresAt };
  }

  /** The Set-Cookie header that ends the session. */
  close(): string {
    return this.cookie('', 0);
  }

  callerOf(token: string): Caller {
    const [keyHash, expiresAt, signature] = token.split('.');
    if (!keyHash || !expiresAt || !signature || !this.signatures.valid(keyHash, Number(expiresAt), signature)) {
      return { kind: 'invalid', reason: 'Session not valid or expired: log in again (POST /auth/session)' };
    }
    return this.keys.callerOfHash(keyHash);
  }

  private cookie(value: string, maxAge: number): string {
    // HttpOnly: page scripts cannot read it; SameSite=Strict: other sites' pages cannot send it
    return fastifyCookie.serialize(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure: this.env.SESSION_COOKIE_SECURE === 'true', path: '/', maxAge });
  }
}
