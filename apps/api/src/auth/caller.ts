import type { ApiScope } from '@app/api-keys';

/** Who is calling, as their credentials say. */
export type Caller =
  | { kind: 'key'; name: string; scopes: ReadonlySet<ApiScope> }
  | { kind: 'anonymous' }
  /** Credentials were presented but are no good (unknown or revoked key, bad or expired session). */
  | { kind: 'invalid'; reason: string };

export const ANONYMOUS: Caller = { kind: 'anonymous' };

/** The key in `Authorization: Bearer <key>`, if any. */
export function bearerKey(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  return authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : authorization.trim();
}
