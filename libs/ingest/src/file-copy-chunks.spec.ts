import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStagingState, interactionFileStagingChunks } from './file-copy-chunks';
import { InteractionFormat } from './formats';
import { readInteractionFile } from './read-interaction-file';

interface Row {
  user: string;
  item: string;
  weight: number;
  seconds: number;
}

/** Runs the encoder and decodes its COPY rows back through the dictionaries. */
async function encode(path: string, format: InteractionFormat): Promise<{ rows: Row[]; state: FileStagingState }> {
  const state = new FileStagingState();
  let text = '';
  for await (const chunk of interactionFileStagingChunks(path, format, state)) text += chunk.toString('utf8');
  const rows = text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [u, i, w, s] = line.split('\t');
      return {
        user: state.users.ids[Number(u)],
        item: state.items.ids[Number(i)],
        weight: Math.fround(Number(w)),
        seconds: Number(s),
      };
    });
  return { rows, state };
}

/** What the reference parser reads from the same file, in the same shape. */
async function reference(path: string, format: InteractionFormat): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const r of readInteractionFile(path, format)) {
    rows.push({
      user: r.user,
      item: r.item,
      weight: Math.fround(r.weight),
      seconds: r.occurredAtMs === null ? 0 : r.occurredAtMs / 1000,
    });
  }
  return rows;
}

describe(interactionFileStagingChunks.name, () => {
  let dir: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'recoder-encoder-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every csv shape exactly as parseInteractionLine does (fast and slow paths agree)', async () => {
    const sut = file(
      'mixed.csv',
      [
        '\uFEFFuser,item,weight,timestamp',
        'u1,i1,3,1700000000',
        'u1,i2',
        'u2,i1,2.5',
        'u2,i3,,1700000001',
        '',
        ' u3 , i4 , 4 , 1700000002 ',
        '"u,4",i5,1,2024-05-01T10:00:00Z',
        'ü5,ï6,0.125,1700000003.5',
        'u6,i7,1e2,1700000004\r',
        'urn:u7,i8,007,0000000005',
        'u8,i9,-1.5,1700000006',
        'u9,sp ace,1,1700000007',
        'u10,"back\\slash",1,1700000008',
        'u1,i1,3,1700000000',
      ].join('\n'),
    );
    const { rows, state } = await encode(sut, 'csv');
    expect(rows).toEqual(await reference(sut, 'csv'));
    expect(state.rows).toBe(13);
    // u1,i2 / u2,i1,2.5 have no timestamp
    expect(state.rowsWithoutTimestamp).toBe(2);
    expect(state.users.ids.slice(0, 3)).toEqual(['u1', 'u2', 'u3']);
  });

  it.each<[InteractionFormat, string]>([
    ['movielens-100k', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t881250950'],
    ['movielens-1m', '1::1193::5::978300760\r\n1::661::3::978302109\r\n2::1193::4::978300761\r\n'],
  ])('reads %s', async (format, content) => {
    const sut = file(`${format}.dat`, content);
    const { rows, state } = await encode(sut, format);
    expect(rows).toEqual(await reference(sut, format));
    expect(rows).toHaveLength(3);
    expect(state.users.ids).toHaveLength(2);
  });

  it('handles lines split across read chunks', async () => {
    const lines = Array.from({ length: 60_000 }, (_, k) => `user${k % 997},item${k % 1009},${k % 5},${1600000000 + k}`);
    const sut = file('big.csv', ['user,item,weight,timestamp', ...lines].join('\n'));
    const { rows } = await encode(sut, 'csv');
    // one string comparison: toEqual on 60,000 objects takes seconds
    expect(JSON.stringify(rows)).toBe(JSON.stringify(await reference(sut, 'csv')));
  });

  it.each([
    ['u1,i1,1,1\nu2,i2,abc,1\n', /line 3: weight "abc"/],
    ['u1,i1,1,1\nu2,i2,1,1,5\n', /line 3: expected 2 to 4 fields, got 5/],
    ['u1,i1,1,1\nu2,i2,1,99999999999\n', /line 3: timestamp/],
    ['u1,i1,1,1\nu2,i2,1e39,1\n', /line 3: weight "1e39" must be 0 or between/],
    ['u1,i1,1,1\nu2,i\0x,1,1\n', /line 3: item must not contain a NUL/],
    // a lone CR inside a line: it would end the id's line in ids.txt for most readers
    ['u1,i1,1,1\nu\r2,i2,1,1\n', /line 3: user must not contain a line break \(U\+000D\)/],
    ['u1,i1,1,1\n,i2,1,1\n', /line 3: user must not be empty/],
    // the API's rules: no control character in an id, no weight past 1e6, no time more than a day ahead
    ['u1,i1,1,1\nu2,tab\there,1,1\n', /line 3: item must not contain a control character \(U\+0009\)/],
    ['u1,i1,1,1\nu2,i2,1000001,1\n', /line 3: weight "1000001" must be 0 or between/],
    [
      `u1,i1,1,1\nu2,i2,1,${Math.floor(Date.now() / 1000) + 2 * 86400}\n`,
      /line 3: timestamp "\d+" must not be more than a day in the future/,
    ],
  ])('names the first bad line of %j', async (content, message) => {
    const sut = file('bad.csv', `h\n${content}`.replace(/^h\n/, 'user,item,weight,timestamp\n'));
    await expect(encode(sut, 'csv')).rejects.toThrow(message);
  });
});
