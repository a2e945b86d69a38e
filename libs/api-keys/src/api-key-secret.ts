import { createHash, randomBytes } from 'node:crypto';

/** A recognisable prefix, so a leaked key is found by secret scanners and in logs. */
const KEY_PREFIX = 'rk_';

/** 32 random bytes (256 bits): the plaintext a client holds, shown once. */
export function generateApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * What is stored and compared: SHA-256 of the key. A fast hash is right here because the key is
 * 256 random bits, not a password: no dictionary to try, and 2^256 guesses are out of reach at any
 * speed, so a slow hash (bcrypt, scrypt) would add milliseconds to every request and no safety.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
