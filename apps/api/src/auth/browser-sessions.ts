import { Injectable } from '@nestjs/common';
import type { CookieSerializeOptions } from '@fastify/cookie';
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

  /** The session cookie for the key (value and attributes); UNAUTHENTICATED for a key that is not valid. */
  open(key: string): {
    value: string;
    options: CookieSerializeOptions;
    caller: Extract<Caller, { kind: 'key' }>;
    expiresAt: number;
  } {
    const keyHash = hashApiKey(key);
    const caller = this.keys.callerOfHash(keyHash);
    if (caller.kind !== 'key') throw new UnauthenticatedError('API key not recognised (unknown or revoked)');
    const expiresAt = expiresIn(SESSION_SECONDS);
    const token = `${keyHash}.${expiresAt}.${this.signatures.sign(keyHash, expiresAt)}`;
    return { value: token, options: this.cookieOptions(SESSION_SECONDS), caller, expiresAt };
  }

  /** The attributes of the cookie that ends the session. */
  closing(): CookieSerializeOptions {
    return this.cookieOptions(0);
  }

  callerOf(token: string): Caller {
    const [keyHash, expiresAt, signature] = token.split('.');
    if (!keyHash || !expiresAt || !signature || !this.signatures.valid(keyHash, Number(expiresAt), signature)) {
      return { kind: 'invalid', reason: 'Session not valid or expired: log in again (POST /auth/session)' };
    }
    return this.keys.callerOfHash(keyHash);
  }

  private cookieOptions(maxAge: number): CookieSerializeOptions {
    // HttpOnly: page scripts cannot read it; SameSite=Strict: other sites' pages cannot send it
    return { httpOnly: true, sameSite: 'strict', secure: this.env.SESSION_COOKIE_SECURE === 'true', path: '/', maxAge };
  }
}
