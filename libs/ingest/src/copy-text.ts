import { ImportErrorCode, ImportException } from './import-errors';
import { InteractionParseError } from './formats';

/**
 * COPY text format (not CSV): tab-separated, `\N` for null, and a backslash escapes
 * backslash, tab, newline and carriage return. Cheaper for the server to parse than CSV.
 */
const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Escapes a value for COPY text format. A NUL cannot be stored in Postgres text: callers reject it first. */
export function escapeCopyText(value: string): string {
  // most ids need nothing: one regex test, no allocation
  if (!NEEDS_ESCAPE.test(value)) return value;
  if (value.includes('\0')) throw new Error('a NUL character cannot be copied into a text column');
  return value.replace(/[\\\t\n\r]/g, (ch) => ESCAPES[ch]);
}

/** Stands in for a missing timestamp: a fixed instant (1970-01-01T00:00:00Z), so re-importing the same file adds nothing. */
export const NO_TIMESTAMP_SECONDS = 0;

/** interactions.weight is a real: catch what would overflow or vanish there now, while the line number is known. */
export function checkFitsReal(weight: number, lineNo: number): void {
  const single = Math.fround(weight);
  if (!Number.isFinite(single) || (single === 0 && weight !== 0)) {
    throw new InteractionParseError(lineNo, `weight ${weight} is out of range for a 32-bit float`);
  }
}

// V8 Maps hold at most 2^24 entries; stay well below, with a message that says what to do
export const MAX_DISTINCT_IDS = 10_000_000;

/**
 * External ids of one import, numbered densely in order of first appearance. Staging rows carry these
 * small numbers instead of the text ids: less to copy, and the merge joins on integers.
 */
export class IdDictionary {
  private readonly index = new Map<string, number>();
  readonly ids: string[] = [];

  constructor(private readonly kind: 'user' | 'item') {}

  indexOf(id: string, lineNo: number): number {
    const known = this.index.get(id);
    if (known !== undefined) return known;
    if (id.includes('\0')) throw new InteractionParseError(lineNo, `${this.kind} contains a NUL character`);
    if (this.ids.length >= MAX_DISTINCT_IDS) {
      throw new ImportException(ImportErrorCode.TooManyIds, `more than ${MAX_DISTINCT_IDS} distinct ${this.kind}s in one import: split the file`);
    }
    const next = this.ids.length;
    this.index.set(id, next);
    this.ids.push(id);
    return next;
  }
}

/** A growable output buffer for COPY text, written byte by byte: no string per row. */
export class CopyBuffer {
  private buffer: Buffer;
  private pos = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.pos;
  }

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + n));
    this.buffer.copy(bigger, 0, 0, this.pos);
    this.buffer = bigger;
  }

  /** Writes a non-negative integer in decimal (caller reserved 10 bytes). */
  uint(value: number): void {
    if (value < 10) {
      this.buffer[this.pos++] = 48 + value;
      return;
    }
    let digits = 1;
    for (let bound = 10; bound <= value; bound *= 10) digits++;
    let v = value;
    for (let k = this.pos + digits - 1; k >= this.pos; k--) {
      this.buffer[k] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.pos += digits;
  }

  byte(value: number): void {
    this.buffer[this.pos++] = value;
  }

  bytes(source: Buffer, start: number, end: number): void {
    source.copy(this.buffer, this.pos, start, end);
    this.pos += end - start;
  }

  /** An ASCII string (numbers, type names); reserves its own room. */
  ascii(text: string): void {
    this.reserve(text.length);
    this.pos += this.buffer.write(text, this.pos, 'latin1');
  }

  /** Hands the bytes written so far to the caller and starts a fresh buffer (the old one may still be in flight). */
  take(): Buffer {
    const out = this.buffer.subarray(0, this.pos);
    this.buffer = Buffer.allocUnsafe(this.buffer.length);
    this.pos = 0;
    return out;
  }
}
