/**
 * COPY ... TO STDOUT (FORMAT binary) of a one-column query, its values laid end to end into
 * `into`: the raw bytes of a bytea column, with none of the text protocol's hex (twice the size,
 * then decoded). The format: an 11-byte signature, int32 flags, int32 extension length; then per
 * row an int16 field count (-1 ends the data) and per field an int32 length and the bytes.
 * Returns how many bytes were written; throws if they would not fit.
 */
export async function copyBinaryColumnInto(stream: AsyncIterable<Buffer>, into: Buffer): Promise<number> {
  let offset = 0;
  await copyBinaryColumnTo(stream, (bytes) => {
    if (offset + bytes.length > into.length)
      throw new Error(`the copied values exceed the ${into.length} bytes counted`);
    bytes.copy(into, offset);
    offset += bytes.length;
  });
  return offset;
}

/**
 * The same values handed to `write` piece by piece as they arrive (slices of the stream's chunks,
 * valid only until `write` returns or resolves), so a value of any size never sits in memory
 * whole: how an index file is copied to disk. Returns how many bytes were handed over.
 */
export async function copyBinaryColumnTo(
  stream: AsyncIterable<Buffer>,
  write: (bytes: Buffer) => void | Promise<void>,
): Promise<number> {
  const head = Buffer.alloc(6);
  let skip = 11 + 4; // the signature and flags; the extension length is read as a header below
  let headLen = 0;
  let headWant = 4;
  let inExtension = true;
  let remaining = 0;
  let offset = 0;
  let ended = false;
  for await (const chunk of stream) {
    let at = 0;
    while (at < chunk.length && !ended) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - at);
        skip -= n;
        at += n;
      } else if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - at);
        await write(chunk.subarray(at, at + n));
        offset += n;
        at += n;
        remaining -= n;
      } else {
        // a header: the extension's length (4 bytes), then per row its field count (2) and value length (4)
        const n = Math.min(headWant - headLen, chunk.length - at);
        chunk.copy(head, headLen, at, at + n);
        headLen += n;
        at += n;
        if (headLen < headWant) continue;
        if (inExtension) {
          // an extension area we do not need: skipped, then rows begin
          skip = head.readInt32BE(0);
          inExtension = false;
        } else if (headWant === 2) {
          const fields = head.readInt16BE(0);
          if (fields === -1) {
            ended = true;
            break;
          }
          if (fields !== 1) throw new Error(`expected one column, the COPY has ${fields}`);
          // the value's length follows in the same header
          headWant = 6;
          continue;
        } else {
          remaining = head.readInt32BE(2);
          if (remaining < 0) throw new Error('a copied value is NULL');
        }
        headLen = 0;
        headWant = 2;
      }
    }
  }
  if (!ended) throw new Error('the COPY ended without its trailer');
  return offset;
}
