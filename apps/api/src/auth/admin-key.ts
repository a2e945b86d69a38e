import { timingSafeEqual } from 'node:crypto';

export type AdminCheck = { ok: true } | { ok: false; reason: string };

/** The one check of `Authorization: Bearer <ADMIN_API_KEY>`, for GraphQL and plain HTTP routes alike. */
export function checkAdminKey(authorization: string | undefined, key: string | undefined): AdminCheck {
  if (!key) return { ok: false, reason: 'Admin operations are disabled: ADMIN_API_KEY is not set' };
  const header = authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(key);
  // constant time, so the key cannot be guessed byte by byte
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'Admin key required: Authorization: Bearer <ADMIN_API_KEY>' };
  }
  return { ok: true };
}
