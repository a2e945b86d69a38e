import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { hasHeader, InteractionFormat, parseInteractionLine, ParsedInteraction } from './formats';

/** Streams a file's interactions with their 1-based line numbers; the header (csv) is skipped. */
export async function* readInteractionFile(
  path: string,
  format: InteractionFormat,
): AsyncGenerator<ParsedInteraction & { line: number }> {
  // MovieLens 100k's u.item is latin1, but u.data / ratings are ASCII: utf8 is right for the data files
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    if (lineNo === 1 && hasHeader(format)) continue;
    const parsed = parseInteractionLine(format, raw, lineNo);
    if (parsed) yield { ...parsed, line: lineNo };
  }
}
