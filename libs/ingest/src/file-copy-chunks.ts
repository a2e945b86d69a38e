import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { stagingCopyLine } from './copy-text';
import { hasHeader, InteractionFormat, parseInteractionLine } from './formats';

/** Big reads: fewer chunks through the stream machinery, one COPY message per read. */
const READ_CHUNK_BYTES = 1 << 20;
const BOM = '\uFEFF';

export interface RowCounter {
  rows: number;
}

/**
 * Reads an interaction file and yields it as staging rows in COPY text format, one string per read
 * chunk. Every line is validated with parseInteractionLine as it streams; the first bad line throws
 * InteractionParseError ("line N: ..."). `counter.rows` counts the data rows yielded so far.
 */
export async function* interactionFileCopyChunks(
  path: string,
  format: InteractionFormat,
  counter: RowCounter = { rows: 0 },
): AsyncGenerator<string> {
  const skipHeader = hasHeader(format);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 0;

  // split by hand rather than with readline: no per-line event, one output string per chunk
  const convert = (text: string, final: boolean): string => {
    const out: string[] = [];
    let start = 0;
    for (;;) {
      let end = text.indexOf('\n', start);
      if (end === -1) {
        if (!final || start >= text.length) break;
        end = text.length;
      }
      const line = text.slice(start, end);
      start = end + 1;
      lineNo++;
      if (lineNo === 1 && skipHeader) continue;
      const row = parseInteractionLine(format, lineNo === 1 && line.startsWith(BOM) ? line.slice(1) : line, lineNo);
      if (row === null) continue;
      out.push(stagingCopyLine(row, lineNo));
      counter.rows++;
    }
    rest = final ? '' : text.slice(start);
    return out.join('');
  };

  for await (const buffer of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES })) {
    const chunk = convert(rest + decoder.write(buffer as Buffer), false);
    if (chunk) yield chunk;
  }
  const last = convert(rest + decoder.end(), true);
  if (last) yield last;
}
