/**
 * Who is logged in. The key is kept in sessionStorage (this tab, until the browser session ends),
 * sent only in the Authorization header of /graphql requests, never put in a URL. Logging in also
 * opens the API's cookie session (HttpOnly), which Bull Board and file downloads read.
 */
export type Scope = 'admin' | 'serve' | 'ingest' | 'embeddings' | 'catalogue';

export interface Identity {
  name: string;
  /** The key's scopes and those PUBLIC_SCOPES opens to every caller. */
  scopes: Scope[];
}

const KEY = 'recoder.key';
const IDENTITY = 'recoder.identity';
/** Fired when the session ends (logout, or the API refused the key). */
export const SESSION_ENDED = 'recoder:session-ended';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storedIdentity(): Identity | null {
  const raw = sessionStorage.getItem(IDENTITY);
  if (!raw || !storedKey()) return null;
  try {
    return JSON.parse(raw) as Identity;
  } catch {
    return null;
  }
}

export const can = (identity: Identity | null, scope: Scope): boolean => !!identity?.scopes.includes(scope);

/** Checks the key with the API (POST /auth/session) and keeps it; throws with the API's message. */
export async function logIn(key: string): Promise<Identity> {
  const res = await fetch('/auth/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  const body = (await res.json().catch(() => null)) as {
    name?: string;
    scopes?: Scope[];
    publicScopes?: Scope[];
    message?: string;
  } | null;
  if (!res.ok || !body?.name) throw new Error(body?.message ?? `The API answered ${res.status}`);
  const identity: Identity = {
    name: body.name,
    scopes: [...new Set([...(body.scopes ?? []), ...(body.publicScopes ?? [])])],
  };
  sessionStorage.setItem(KEY, key);
  sessionStorage.setItem(IDENTITY, JSON.stringify(identity));
  return identity;
}

export function endSession(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(IDENTITY);
  window.dispatchEvent(new Event(SESSION_ENDED));
}

export async function logOut(): Promise<void> {
  await fetch('/auth/session', { method: 'DELETE' }).catch(() => undefined);
  endSession();
}
