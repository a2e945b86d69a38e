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

/** Beyond this an import is refused (the dictionaries and their staging would outgrow memory). */
export const MAX_DISTINCT_IDS = 10_000_000;
const INITIAL_SLOTS = 1 << 16;
const INITIAL_ARENA_BYTES = 1 << 20;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * External ids of one import, numbered densely in order of first appearance. Staging rows carry these
 * small numbers instead of the text ids: less to copy, and the merge looks ids up by index.
 *
 * Keyed by the id's UTF-8 bytes in an open-addressing table, so looking up an id already seen
 * allocates nothing (a string and a Map lookup per row cost more than the rest of the parsing).
 */
export class IdDictionary {
  readonly ids: string[] = [];
  private slots = new Int32Array(INITIAL_SLOTS); // idx + 1; 0 = empty
  private hashes = new Int32Array(INITIAL_SLOTS / 2);
  private starts = new Int32Array(INITIAL_SLOTS / 2);
  private ends = new Int32Array(INITIAL_SLOTS / 2);
  private arena = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
  private arenaUsed = 0;
  // files are often grouped by user: the same id as the line before is found without hashing
  private last = -1;

  constructor(private readonly kind: 'user' | 'item') {}

  /** The index of an id given as a string (parseInteractionLine has refused NUL and line breaks). */
  indexOf(id: string): number {
    const bytes = Buffer.from(id, 'utf8');
    return this.indexOfBytes(bytes, 0, bytes.length);
  }

  /** The index of the id in bytes [start, end) of buffer (valid UTF-8 without NUL). */
  indexOfBytes(buffer: Buffer, start: number, end: number): number {
    if (this.last >= 0 && this.equals(this.last, buffer, start, end)) return this.last;
    let hash = FNV_OFFSET;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ buffer[i], FNV_PRIME);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let entry = this.slots[slot]; entry !== 0; entry = this.slots[slot]) {
      if (this.hashes[entry - 1] === hash && this.equals(entry - 1, buffer, start, end)) return (this.last = entry - 1);
      slot = (slot + 1) & mask;
    }
    const idx = this.add(buffer, start, end, hash);
    this.slots[slot] = idx + 1;
    if (this.ids.length * 2 > this.slots.length) this.rehash();
    return (this.last = idx);
  }

  private equals(idx: number, buffer: Buffer, start: number, end: number): boolean {
    const from = this.starts[idx];
    const length = this.ends[idx] - from;
    if (length !== end - start) return false;
    for (let k = 0; k < length; k++) if (this.arena[from + k] !== buffer[start + k]) return false;
    return true;
  }

  private add(buffer: Buffer, start: number, end: number, hash: number): number {
    const idx = this.ids.length;
    if (idx >= MAX_DISTINCT_IDS) {
      throw new ImportException(
        ImportErrorCode.TooManyIds,
        `more than ${MAX_DISTINCT_IDS} distinct ${this.kind}s in one import: split the file`,
      );
    }
    if (idx === this.starts.length) {
      this.hashes = grow(this.hashes);
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    const length = end - start;
    if (this.arenaUsed + length > this.arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaUsed + length));
      this.arena.copy(bigger, 0, 0, this.arenaUsed);
      this.arena = bigger;
    }
    buffer.copy(this.arena, this.arenaUsed, start, end);
    this.hashes[idx] = hash;
    this.starts[idx] = this.arenaUsed;
    this.ends[idx] = this.arenaUsed + length;
    this.arenaUsed += length;
    this.ids.push(buffer.toString('utf8', start, end));
    return idx;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let idx = 0; idx < this.ids.length; idx++) {
      let slot = this.hashes[idx] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = idx + 1;
    }
    this.slots = slots;
  }
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
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

  /** A few bytes (a number's digits): a loop beats Buffer.copy's call overhead at this size. */
  bytes(source: Buffer, start: number, end: number): void {
    for (let i = start; i < end; i++) this.buffer[this.pos++] = source[i];
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
