import { HistoryCursor } from '@app/database';

/** Opaque to clients: base64url of "occurredUs:id". */
export function encodeCursor(cursor: HistoryCursor): string {
  return Buffer.from(`${cursor.occurredUs}:${cursor.id}`).toString('base64url');
}

const CURSOR = /^(-?\d{1,18}):(\d{1,18})$/;
// beyond these Postgres' bigint and timestamp arithmetic overflow: no cursor of ours comes near them
const MAX_CURSOR_US = 2n ** 53n;
const MAX_CURSOR_ID = 2n ** 63n - 1n;

/** The cursor's parts, or null for a text this API never handed out. */
function parse(text: string): HistoryCursor | null {
  const match = CURSOR.exec(Buffer.from(text, 'base64url').toString());
  if (!match || encodeCursor({ occurredUs: match[1], id: match[2] }) !== text) return null;
  const us = BigInt(match[1]);
  if (us < -MAX_CURSOR_US || us > MAX_CURSOR_US || BigInt(match[2]) > MAX_CURSOR_ID) return null;
  return { occurredUs: match[1], id: match[2] };
}

export function cursorProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 64 || !parse(value)) return 'is not a cursor returned by this API';
  return null;
}

/** A cursor that passed IsCursor. */
export function decodeCursor(text: string): HistoryCursor {
  const cursor = parse(text);
  if (!cursor) throw new Error('decodeCursor: an unvalidated cursor');
  return cursor;
}
