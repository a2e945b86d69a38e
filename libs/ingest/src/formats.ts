/** The interaction file formats recoder reads, for the import CLI and the offline evaluation alike. */
export const INTERACTION_FORMATS = ['movielens-100k', 'movielens-1m', 'csv'] as const;
export type InteractionFormat = (typeof INTERACTION_FORMATS)[number];

export interface ParsedInteraction {
  user: string;
  item: string;
  /** 1 when the file has no weight column. */
  weight: number;
  /** Milliseconds since the epoch, or null when the file has no timestamp. */
  occurredAtMs: number | null;
}

export class InteractionParseError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

export const MAX_EXTERNAL_ID_LENGTH = 256;

/**
 * What an id may not hold, or null: NUL (Postgres text cannot store it) or a character that ends
 * a line for common readers (Python's splitlines: LF, CR, VT, FF, FS-RS, NEL, U+2028/9). ids.txt
 * is one id per line, so such an id would shift every row after it. Tabs are allowed.
 */
export function forbiddenIdCharacter(id: string): string | null {
  const found = /[\u0000\n\r\u000b\u000c\u001c-\u001e\u0085\u2028\u2029]/.exec(id);
  if (!found) return null;
  return found[0] === '\0' ? 'a NUL character' : `a line break (U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
}

export function isInteractionFormat(value: string): value is InteractionFormat {
  return (INTERACTION_FORMATS as readonly string[]).includes(value);
}

/** Whether the format's first line is a header to skip. */
export function hasHeader(format: InteractionFormat): boolean {
  return format === 'csv';
}

const SEPARATORS: Record<InteractionFormat, string> = {
  'movielens-100k': '\t',
  'movielens-1m': '::',
  csv: ',',
};

/**
 * Parses one data line (no trailing newline; a trailing CR is tolerated).
 * Returns null for a blank line. Throws InteractionParseError naming the line and the field.
 */
export function parseInteractionLine(format: InteractionFormat, raw: string, lineNo: number): ParsedInteraction | null {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (text.trim() === '') return null;
  const fields = format === 'csv' ? splitCsv(text, lineNo) : text.split(SEPARATORS[format]);
  const min = format === 'csv' ? 2 : 4;
  if (fields.length < min || fields.length > 4) {
    throw new InteractionParseError(lineNo, `expected ${format === 'csv' ? '2 to 4' : '4'} fields, got ${fields.length}`);
  }
  const user = checkId(fields[0].trim(), 'user', lineNo);
  const item = checkId(fields[1].trim(), 'item', lineNo);
  const weight = fields.length > 2 && fields[2].trim() !== '' ? parseWeight(fields[2].trim(), lineNo) : 1;
  const occurredAtMs = fields.length > 3 && fields[3].trim() !== '' ? parseTimestamp(fields[3].trim(), lineNo) : null;
  return { user, item, weight, occurredAtMs };
}

function checkId(id: string, field: string, lineNo: number): string {
  if (id === '') throw new InteractionParseError(lineNo, `${field} is empty`);
  const forbidden = forbiddenIdCharacter(id);
  if (forbidden) throw new InteractionParseError(lineNo, `${field} contains ${forbidden}`);
  if (id.length > MAX_EXTERNAL_ID_LENGTH) {
    throw new InteractionParseError(lineNo, `${field} is longer than ${MAX_EXTERNAL_ID_LENGTH} characters`);
  }
  return id;
}

function parseWeight(text: string, lineNo: number): number {
  const weight = Number(text);
  if (!Number.isFinite(weight)) throw new InteractionParseError(lineNo, `weight "${clip(text)}" is not a finite number`);
  return weight;
}

const UNIX_SECONDS = /^-?\d+(\.\d+)?$/;
// dates before 1970 or after 2200 are almost surely a unit mistake (ms instead of s)
const MAX_TIMESTAMP_MS = Date.UTC(2200, 0, 1);

/** Unix seconds or ISO 8601. */
export function parseTimestamp(text: string, lineNo: number): number {
  const ms = UNIX_SECONDS.test(text) ? Number(text) * 1000 : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMESTAMP_MS) {
    throw new InteractionParseError(lineNo, `timestamp "${clip(text)}" is neither unix seconds nor ISO 8601`);
  }
  return ms;
}

/** Comma-separated with RFC 4180 quotes ("a,b" and "" for a quote). */
function splitCsv(text: string, lineNo: number): string[] {
  if (!text.includes('"')) return text.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(field), (field = '');
    else field += ch;
  }
  if (quoted) throw new InteractionParseError(lineNo, 'unterminated quote');
  out.push(field);
  return out;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
