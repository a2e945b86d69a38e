/**
 * What recoder accepts from a client or a file, as plain functions: the GraphQL API's validation
 * decorators and the bulk import's parser both call these, so the two cannot drift. Each returns
 * null when the value is fine, else the reason (to follow the field's name in an error message).
 */

/** Users, items, events and interaction types: 1 to this many characters. */
export const MAX_EXTERNAL_ID_LENGTH = 256;
/** A weight is stored as a Postgres real (float4): this keeps it finite there with room to spare. */
export const MAX_WEIGHT = 1e6;
/** Below this a nonzero weight would lose its digits (or vanish) in a float4. */
export const MIN_NONZERO_WEIGHT = 1e-6;
/** occurredAt may run ahead of this server's clock by at most this (clock skew, time zones gone wrong). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;
/** An item's attributes, or an attribute filter: at most this many bytes as JSON ... */
export const MAX_ATTRIBUTES_BYTES = 16 * 1024;
/** ... nested at most this deep ({"a": 1} is 1 deep). */
export const MAX_ATTRIBUTES_DEPTH = 5;

/**
 * A line break for common readers (Python's splitlines: LF, CR, VT, FF, FS-RS, NEL, U+2028/9):
 * ids.txt is one id per line, so such an id would shift every row after it.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const LINE_BREAK = /[\n\r\u000b\u000c\u001c-\u001e\u0085\u2028\u2029]/;
// C0 and C1 controls (NUL, tab, escape, ...): invisible, and NUL is something Postgres text cannot hold
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// with the u flag a surrogate matches only when it is not half of a pair
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** What an id may not hold, or null: a control character (line breaks and NUL named as such) or a lone surrogate. */
export function forbiddenIdCharacter(id: string): string | null {
  const found = CONTROL.exec(id);
  if (found) {
    const ch = found[0];
    if (ch === '\0') return 'a NUL character';
    return `${LINE_BREAK.test(ch) ? 'a line break' : 'a control character'} (U+${codeOf(ch)})`;
  }
  return LONE_SURROGATE.test(id) ? 'a lone UTF-16 surrogate (malformed Unicode)' : null;
}

/** An id or an interaction type: 1-256 characters, not blank, no control characters, well-formed Unicode. */
export function idProblem(id: unknown): string | null {
  if (typeof id !== 'string') return 'must be a string';
  if (id.trim() === '') return 'must not be empty';
  if (id.length > MAX_EXTERNAL_ID_LENGTH) return `must be at most ${MAX_EXTERNAL_ID_LENGTH} characters`;
  const forbidden = forbiddenIdCharacter(id);
  return forbidden && `must not contain ${forbidden}`;
}

/** A weight: finite, 0 or between 1e-6 and 1e6 in magnitude (float4 keeps it). */
export function weightProblem(weight: unknown): string | null {
  if (typeof weight !== 'number' || !Number.isFinite(weight)) return 'must be a finite number';
  const size = Math.abs(weight);
  if (size > MAX_WEIGHT || (size !== 0 && size < MIN_NONZERO_WEIGHT))
    return `must be 0 or between ${MIN_NONZERO_WEIGHT} and ${MAX_WEIGHT} in magnitude`;
  return null;
}

/** The latest occurredAt accepted now (ms since the epoch). */
export function latestOccurredAtMs(now = Date.now()): number {
  return now + MAX_FUTURE_MS;
}

/** When an interaction happened: from 1970 to one day ahead of now (a later one would poison the training watermark). */
export function occurredAtProblem(ms: number, now = Date.now()): string | null {
  if (!Number.isFinite(ms)) return 'is not a valid time';
  if (ms < 0) return 'must not be before 1970';
  if (ms > latestOccurredAtMs(now)) return 'must not be more than a day in the future';
  return null;
}

/** Attributes (or an attribute filter): a JSON object of at most 16 KB, 5 deep, whose strings Postgres' jsonb can hold. */
export function attributesProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object';
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) > MAX_ATTRIBUTES_BYTES) return `must be at most ${MAX_ATTRIBUTES_BYTES} bytes of JSON`;
  return jsonProblem(value, 1);
}

function jsonProblem(value: unknown, depth: number): string | null {
  if (typeof value === 'string') return stringProblem(value);
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_ATTRIBUTES_DEPTH) return `must be at most ${MAX_ATTRIBUTES_DEPTH} levels deep`;
  for (const [key, child] of Object.entries(value)) {
    const problem = (Array.isArray(value) ? null : stringProblem(key)) ?? jsonProblem(child, depth + 1);
    if (problem) return problem;
  }
  return null;
}

// jsonb refuses \u0000 and unpaired surrogates; other controls (a line break in a description) are fine
function stringProblem(text: string): string | null {
  if (text.includes('\0')) return 'must not contain a NUL character';
  return LONE_SURROGATE.test(text) ? 'must not contain a lone UTF-16 surrogate (malformed Unicode)' : null;
}

function codeOf(ch: string): string {
  return ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
}
