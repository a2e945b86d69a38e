import { copyBinaryColumnInto } from './copy-binary-column';

/** What Postgres sends for COPY (SELECT col ...) TO STDOUT (FORMAT binary), values as given. */
function copyPayload(values: Buffer[], extension = Buffer.alloc(0)): Buffer {
  const int32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const int16 = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    return b;
  };
  const header = Buffer.concat([
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
    int32(0),
    int32(extension.length),
    extension,
  ]);
  return Buffer.concat([header, ...values.flatMap((v) => [int16(1), int32(v.length), v]), int16(-1)]);
}

/** The payload cut at the given offsets, as a socket delivers it. */
// eslint-disable-next-line @typescript-eslint/require-await -- a socket's chunks, from memory
async function* cut(payload: Buffer, at: number[]) {
  let from = 0;
  for (const to of [...at, payload.length]) {
    yield payload.subarray(from, to);
    from = to;
  }
}

describe(copyBinaryColumnInto.name, () => {
  const values = [Buffer.from('first chunk'), Buffer.alloc(0), Buffer.from([0, 255, 1, 254, 2]), Buffer.from('last')];
  const whole = Buffer.concat(values);

  it('lays the values end to end, however the stream is cut (headers split across chunks included)', async () => {
    const payload = copyPayload(values, Buffer.from('ext'));
    for (let a = 1; a < payload.length; a++) {
      for (const b of [a + 1, a + 3, payload.length - 1]) {
        if (b <= a || b >= payload.length) continue;
        const into = Buffer.alloc(whole.length);
        expect(await copyBinaryColumnInto(cut(payload, [a, b]), into)).toBe(whole.length);
        expect(into.equals(whole)).toBe(true);
      }
    }
  });

  it('reports fewer bytes than the buffer holds when fewer came (the caller then knows the rows changed)', async () => {
    const into = Buffer.alloc(whole.length + 10);
    expect(await copyBinaryColumnInto(cut(copyPayload(values), []), into)).toBe(whole.length);
  });

  it('refuses more bytes than counted, NULL values, several columns and a stream cut before its trailer', async () => {
    await expect(copyBinaryColumnInto(cut(copyPayload(values), []), Buffer.alloc(whole.length - 1))).rejects.toThrow(
      /exceed/,
    );
    const payload = copyPayload(values);
    await expect(
      copyBinaryColumnInto(cut(payload.subarray(0, payload.length - 2), []), Buffer.alloc(whole.length)),
    ).rejects.toThrow(/trailer/);
    const nullRow = Buffer.concat([payload.subarray(0, 19), Buffer.from([0, 1, 255, 255, 255, 255, 255, 255])]);
    await expect(copyBinaryColumnInto(cut(nullRow, []), Buffer.alloc(4))).rejects.toThrow(/NULL/);
    const twoColumns = Buffer.concat([payload.subarray(0, 19), Buffer.from([0, 2])]);
    await expect(copyBinaryColumnInto(cut(twoColumns, []), Buffer.alloc(4))).rejects.toThrow(/one column/);
  });
});
