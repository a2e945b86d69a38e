import { HistoryCursor } from '@app/database';
import { BadUserInputError } from '../errors/api-error';

/** Opaque to clients: base64url of "occurredUs:id". */
export function encodeCursor(cursor: HistoryCursor): string {
  return Buffer.from(`${cursor.occurredUs}:${cursor.id}`).toString('base64url');
}

export function decodeCursor(text: string): HistoryCursor {
  const match = /^(-?\d+):(\d+)$/.exec(Buffer.from(text, 'base64url').toString());
  if (!match) throw new BadUserInputError('before: not a cursor returned by this API', { field: 'before' });
  return { occurredUs: match[1], id: match[2] };
}
