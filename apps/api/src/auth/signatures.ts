import { createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Signer } from '@fastify/cookie';
import { EnvVars } from '@app/config';
import { UnauthenticatedError } from '../errors/api-error';

/**
 * HMAC-SHA-256 signatures with an expiry, for session cookies and download links (the signer of
 * @fastify/cookie: constant-time comparison). The secret is SIGNING_SECRET, else derived from
 * ADMIN_API_KEY, so every replica agrees without more configuration; rotating either ends every
 * session and link.
 */
@Injectable()
export class Signatures {
  private readonly signer: Signer | null;

  constructor(env: EnvVars) {
    const secret =
      env.SIGNING_SECRET ??
      (env.ADMIN_API_KEY
        ? createHmac('sha256', env.ADMIN_API_KEY).update('recoder:signing-secret').digest('hex')
        : null);
    this.signer = secret ? new Signer(secret) : null;
  }

  /** The signature of `value` until `expiresAt` (unix seconds). */
  sign(value: string, expiresAt: number): string {
    const signed = this.available().sign(`${value}|${expiresAt}`);
    return signed.slice(signed.lastIndexOf('.') + 1);
  }

  /** Whether `signature` is this server's for `value` and `expiresAt` has not passed. */
  valid(value: string, expiresAt: number, signature: string): boolean {
    if (!this.signer || !Number.isSafeInteger(expiresAt) || expiresAt * 1000 <= Date.now()) return false;
    return this.signer.unsign(`${value}|${expiresAt}.${signature}`).valid;
  }

  private available(): Signer {
    if (!this.signer)
      throw new UnauthenticatedError('Sessions and signed links are disabled: set SIGNING_SECRET or ADMIN_API_KEY');
    return this.signer;
  }
}

export const expiresIn = (seconds: number): number => Math.floor(Date.now() / 1000) + seconds;
