/**
 * Whether an error means a store (Postgres or Redis) could not be reached or dropped the
 * connection, or refused the work for now: the operation may not have happened, and calling it
 * again is the client's remedy (SERVICE_UNAVAILABLE), not a bug to report (INTERNAL_SERVER_ERROR).
 * An ingest batch that was committed just before its connection dropped is then retried with the
 * same eventIds and counted as duplicates, never stored twice.
 */
export function isStoreUnavailable(error: unknown): boolean {
  // not `instanceof Error`: a socket's errors may come from another realm (a test's sandbox)
  for (let e = error as ErrorLike | undefined, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message, name } = e;
    if (typeof code === 'string' && (PG_RETRYABLE.test(code) || NODE_CONNECTION_CODES.has(code))) return true;
    if (typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.startsWith(m))) return true;
    if (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) return true;
    // TypeORM's QueryFailedError keeps pg's error as driverError; others chain it as cause
    e = (e.driverError ?? e.cause) as ErrorLike | undefined;
  }
  return false;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  name?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

/**
 * SQLSTATEs: 08 connection exceptions; 53300 too many connections; 57P01-57P03 the server is
 * shutting down or starting; 57014 a statement cancelled (STATEMENT_TIMEOUT_MS under load);
 * 40001/40P01 a serialization failure or deadlock, which Postgres asks to retry.
 */
const PG_RETRYABLE = /^(08...|53300|57P0[123]|57014|40001|40P01)$/;
const NODE_CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/**
 * ioredis' retries ran out; TypeORM released a transaction's connection because the connection
 * failed under it (its later statements then throw this).
 */
const UNAVAILABLE_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'QueryRunnerProviderAlreadyReleasedError',
  'QueryRunnerAlreadyReleasedError',
]);
/** pg and ioredis say it in words only. */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'Connection is closed',
  "Stream isn't writeable",
  'Command timed out',
];
