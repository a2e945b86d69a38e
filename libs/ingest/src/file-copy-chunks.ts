import { createReadStream } from 'node:fs';
import { checkFitsReal, CopyBuffer, IdDictionary, NO_TIMESTAMP_SECONDS } from './copy-text';
import { hasHeader, InteractionFormat, parseInteractionLine } from './formats';
import { latestOccurredAtMs, MAX_EXTERNAL_ID_LENGTH } from './input-rules';

/** Big reads: fewer chunks through the stream machinery, one COPY message per read. */
const READ_CHUNK_BYTES = 1 << 20;
/** Room for one staging row of the slow path: two ids, a weight and a timestamp as text. */
const MAX_STAGING_ROW_BYTES = 96;

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const DOT = 0x2e;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const DEL = 0x7f;
const ZERO = 0x30;
const NINE = 0x39;
const BOM = [0xef, 0xbb, 0xbf];

// the fast path copies a weight's digits as they are; a short plain decimal reads the same in Postgres,
// and six characters ("999999", "0.0001") stay within weightProblem's range
const MAX_FAST_WEIGHT_BYTES = 6;
const MAX_FAST_SECONDS_DIGITS = 10;

/** What a file import learns while it streams. */
export class FileStagingState {
  readonly users = new IdDictionary('user');
  readonly items = new IdDictionary('item');
  rows = 0;
  /** Rows without a timestamp get a fixed one, so they may repeat a key within the file. */
  rowsWithoutTimestamp = 0;
}

/**
 * Reads an interaction file and yields staging rows in COPY text format: user index, item index,
 * weight, occurred_at in unix seconds (indexes into state.users/state.items). Every line is
 * validated as it streams; the first bad one throws InteractionParseError ("line N: ...").
 *
 * Lines in the common shape (plain ASCII ids, a plain decimal weight, unix seconds) take a
 * byte-level path that allocates nothing but the id lookup; any other line goes through
 * parseInteractionLine, which is the authority: the fast path only accepts what it would accept,
 * with the same result.
 */
export async function* interactionFileStagingChunks(
  path: string,
  format: InteractionFormat,
  state: FileStagingState,
): AsyncGenerator<Buffer> {
  const encoder = new LineEncoder(format, state);
  let carry: Buffer | null = null;
  let lineNo = 0;
  let first = true;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES })) {
    const buffer: Buffer = carry ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let start = first && startsWithBom(buffer) ? BOM.length : 0;
    first = false;
    const out = new CopyBuffer(buffer.length + (buffer.length >> 1) + MAX_STAGING_ROW_BYTES);
    for (let end = buffer.indexOf(LF, start); end !== -1; end = buffer.indexOf(LF, start)) {
      encoder.encode(buffer, start, end, ++lineNo, out);
      start = end + 1;
    }
    carry = start < buffer.length ? buffer.subarray(start) : null;
    if (out.length) yield out.take();
  }
  if (carry) {
    const out = new CopyBuffer(carry.length * 2 + MAX_STAGING_ROW_BYTES);
    encoder.encode(carry, first && startsWithBom(carry) ? BOM.length : 0, carry.length, ++lineNo, out);
    if (out.length) yield out.take();
  }
}

function startsWithBom(buffer: Buffer): boolean {
  return buffer[0] === BOM[0] && buffer[1] === BOM[1] && buffer[2] === BOM[2];
}

class LineEncoder {
  private readonly separator: number;
  private readonly doubleSeparator: boolean;
  private readonly minFields: number;
  private readonly skipHeader: boolean;
  // field boundaries of the current line, reused: no allocation per line
  private readonly starts = new Int32Array(4);
  private readonly ends = new Int32Array(4);
  // parseTimestamp's bound (a day ahead of now), fixed for the import: the slow path gets the same now
  private readonly now = Date.now();
  private readonly maxSeconds = Math.floor(latestOccurredAtMs(this.now) / 1000);

  constructor(
    private readonly format: InteractionFormat,
    private readonly state: FileStagingState,
  ) {
    this.separator = format === 'csv' ? COMMA : format === 'movielens-100k' ? TAB : COLON;
    this.doubleSeparator = format === 'movielens-1m';
    this.minFields = format === 'csv' ? 2 : 4;
    this.skipHeader = hasHeader(format);
  }

  /** Appends the staging row of line [start, end) (no LF) to out; blank lines add nothing. */
  encode(buffer: Buffer, start: number, end: number, lineNo: number, out: CopyBuffer): void {
    if (lineNo === 1 && this.skipHeader) return;
    out.reserve(MAX_STAGING_ROW_BYTES);
    const stop = end > start && buffer[end - 1] === CR ? end - 1 : end;
    if (this.encodeFast(buffer, start, stop, lineNo, out)) return;
    this.encodeSlow(buffer.toString('utf8', start, end), lineNo, out);
  }

  /** The common shape, byte by byte; false (having written nothing) for anything else. */
  private encodeFast(buffer: Buffer, start: number, end: number, lineNo: number, out: CopyBuffer): boolean {
    const { starts, ends } = this;
    let fields = 0;
    starts[0] = start;
    for (let i = start; i < end; i++) {
      const c = buffer[i];
      if (c === this.separator) {
        if (this.doubleSeparator && buffer[i + 1] !== COLON) return false;
        if (fields === 3) return false;
        ends[fields++] = i;
        if (this.doubleSeparator) i++;
        starts[fields] = i + 1;
      } else if (c <= SPACE || c >= DEL || c === QUOTE || c === BACKSLASH || c === COLON) {
        // spaces (trimmed), quotes, escapes, controls and non-ASCII: the slow path decides
        return false;
      }
    }
    ends[fields++] = end;
    if (fields < this.minFields) return false;
    if (!isFastId(starts[0], ends[0]) || !isFastId(starts[1], ends[1])) return false;
    const hasWeight = fields > 2 && ends[2] > starts[2];
    if (hasWeight && !isFastWeight(buffer, starts[2], ends[2])) return false;
    const hasTimestamp = fields > 3 && ends[3] > starts[3];
    if (hasTimestamp && !isFastSeconds(buffer, starts[3], ends[3], this.maxSeconds)) return false;

    const user = this.state.users.indexOfBytes(buffer, starts[0], ends[0]);
    const item = this.state.items.indexOfBytes(buffer, starts[1], ends[1]);
    out.uint(user);
    out.byte(TAB);
    out.uint(item);
    out.byte(TAB);
    if (hasWeight) out.bytes(buffer, starts[2], ends[2]);
    else out.byte(ZERO + 1);
    out.byte(TAB);
    if (hasTimestamp) out.bytes(buffer, starts[3], ends[3]);
    else out.uint(NO_TIMESTAMP_SECONDS);
    out.byte(LF);
    this.state.rows++;
    if (!hasTimestamp) this.state.rowsWithoutTimestamp++;
    return true;
  }

  private encodeSlow(line: string, lineNo: number, out: CopyBuffer): void {
    const row = parseInteractionLine(this.format, line, lineNo, this.now);
    if (row === null) return;
    checkFitsReal(row.weight, lineNo);
    out.uint(this.state.users.indexOf(row.user));
    out.byte(TAB);
    out.uint(this.state.items.indexOf(row.item));
    out.byte(TAB);
    out.ascii(String(row.weight));
    out.byte(TAB);
    out.ascii(String(row.occurredAtMs === null ? NO_TIMESTAMP_SECONDS : row.occurredAtMs / 1000));
    out.byte(LF);
    this.state.rows++;
    if (row.occurredAtMs === null) this.state.rowsWithoutTimestamp++;
  }
}

function isFastId(start: number, end: number): boolean {
  return end > start && end - start <= MAX_EXTERNAL_ID_LENGTH;
}

/** Digits with at most one inner dot ("3", "2.5"), short. */
function isFastWeight(buffer: Buffer, start: number, end: number): boolean {
  if (end - start > MAX_FAST_WEIGHT_BYTES) return false;
  let dot = -1;
  for (let i = start; i < end; i++) {
    const c = buffer[i];
    if (c === DOT && dot === -1) dot = i;
    else if (c < ZERO || c > NINE) return false;
  }
  return dot !== start && dot !== end - 1;
}

/** Whole unix seconds within parseTimestamp's range. */
function isFastSeconds(buffer: Buffer, start: number, end: number, maxSeconds: number): boolean {
  if (end - start > MAX_FAST_SECONDS_DIGITS) return false;
  let seconds = 0;
  for (let i = start; i < end; i++) {
    const c = buffer[i];
    if (c < ZERO || c > NINE) return false;
    seconds = seconds * 10 + (c - ZERO);
  }
  return seconds <= maxSeconds;
}
