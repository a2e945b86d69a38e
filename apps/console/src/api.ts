import { endSession, storedKey } from './session';

/** A GraphQL error as the API reports it: its message and `extensions.code`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface GraphqlReply<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** POST /graphql with the session's key; the first error is thrown (UNAUTHENTICATED also ends the session). */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const key = storedKey();
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json().catch(() => null)) as GraphqlReply<T> | null;
  const error = body?.errors?.[0];
  if (error) {
    const code = error.extensions?.code ?? 'ERROR';
    if (code === 'UNAUTHENTICATED') endSession();
    throw new ApiError(error.message, code);
  }
  if (!body?.data) throw new ApiError(`The API answered ${res.status} without data`, `HTTP_${res.status}`);
  return body.data;
}
