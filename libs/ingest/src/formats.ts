import { idProblem, occurredAtProblem, weightProblem } from './input-rules';

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
export function parseInteractionLine(
  format: InteractionFormat,
  raw: string,
  lineNo: number,
  now = Date.now(),
): ParsedInteraction | null {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (text.trim() === '') return null;
  const fields = format === 'csv' ? splitCsv(text, lineNo) : text.split(SEPARATORS[format]);
  const min = format === 'csv' ? 2 : 4;
  if (fields.length < min || fields.length > 4) {
    throw new InteractionParseError(
      lineNo,
      `expected ${format === 'csv' ? '2 to 4' : '4'} fields, got ${fields.length}`,
    );
  }
  const user = checkId(fields[0].trim(), 'user', lineNo);
  const item = checkId(fields[1].trim(), 'item', lineNo);
  const weight = fields.length > 2 && fields[2].trim() !== '' ? parseWeight(fields[2].trim(), lineNo) : 1;
  const occurredAtMs =
    fields.length > 3 && fields[3].trim() !== '' ? parseTimestamp(fields[3].trim(), lineNo, now) : null;
  return { user, item, weight, occurredAtMs };
}

function checkId(id: string, field: string, lineNo: number): string {
  const problem = idProblem(id);
  if (problem) throw new InteractionParseError(lineNo, `${field} ${problem}`);
  return id;
}

function parseWeight(text: string, lineNo: number): number {
  const weight = Number(text);
  const problem = weightProblem(weight);
  if (problem) throw new InteractionParseError(lineNo, `weight "${clip(text)}" ${problem}`);
  return weight;
}

const UNIX_SECONDS = /^-?\d+(\.\d+)?$/;
/** Unix seconds or ISO 8601, from 1970 to a day ahead of now (the API's bounds: a later time is often ms taken for s). */
export function parseTimestamp(text: string, lineNo: number, now = Date.now()): number {
  const ms = UNIX_SECONDS.test(text) ? Number(text) * 1000 : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms))
    throw new InteractionParseError(lineNo, `timestamp "${clip(text)}" is neither unix seconds nor ISO 8601`);
  const problem = occurredAtProblem(ms, now);
  if (problem) throw new InteractionParseError(lineNo, `timestamp "${clip(text)}" ${problem}`);
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
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw new InteractionParseError(lineNo, 'unterminated quote');
  out.push(field);
  return out;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
