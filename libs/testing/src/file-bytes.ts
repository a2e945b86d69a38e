import { readFile } from 'node:fs/promises';

/**
 * A file's bytes as an ArrayBuffer, e.g. for hyparquet's readers (its own file reader is typed only
 * under Node's export conditions, which this project's TypeScript resolution does not read).
 */
export async function fileBytes(path: string): Promise<ArrayBuffer> {
  const bytes = await readFile(path);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}
