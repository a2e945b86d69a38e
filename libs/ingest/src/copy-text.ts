import { InteractionParseError, ParsedInteraction } from './formats';

/**
 * COPY text format (not CSV): tab-separated, `\N` for null, and a backslash escapes
 * backslash, tab, newline and carriage return. Cheaper for the server to parse than CSV.
 */
const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Escapes a value for COPY text format; a NUL (which Postgres text cannot hold) is an error of that line. */
export function escapeCopyText(value: string, field: string, lineNo: number): string {
  // most ids need nothing: one regex test, no allocation
  if (!NEEDS_ESCAPE.test(value)) return value;
  if (value.includes('\0')) throw new InteractionParseError(lineNo, `${field} contains a NUL character`);
  return value.replace(/[\\\t\n\r]/g, (ch) => ESCAPES[ch]);
}

/** Stands in for a missing timestamp: a fixed instant, so re-importing the same file adds nothing. */
export const NO_TIMESTAMP_SECONDS = 0;

/**
 * One staging row (user, item, weight, occurred_at in unix seconds) in COPY text format, newline included.
 * Seconds as a plain number let the merge convert with to_timestamp(), cheaper than parsing timestamptz text.
 */
export function stagingCopyLine(row: ParsedInteraction, lineNo: number): string {
  checkFitsReal(row.weight, lineNo);
  const seconds = row.occurredAtMs === null ? NO_TIMESTAMP_SECONDS : row.occurredAtMs / 1000;
  return `${escapeCopyText(row.user, 'user', lineNo)}\t${escapeCopyText(row.item, 'item', lineNo)}\t${row.weight}\t${seconds}\n`;
}

/** interactions.weight is a real: catch what would overflow or vanish there now, while the line number is known. */
function checkFitsReal(weight: number, lineNo: number): void {
  const single = Math.fround(weight);
  if (!Number.isFinite(single) || (single === 0 && weight !== 0)) {
    throw new InteractionParseError(lineNo, `weight ${weight} is out of range for a 32-bit float`);
  }
}
