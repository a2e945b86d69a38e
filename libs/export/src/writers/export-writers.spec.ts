import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileBytes } from '@app/testing';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { EmbeddingMap, projectOnMap } from '@app/model';
import { createRng } from '@app/random';
import { EXPORT_WRITERS, ExportFormat } from '../export-formats';
import { ExportRows, StoredVector } from '../export-writer';
import { NPY_HEADER_BYTES } from '../npy';
import { parquetWriter } from './parquet.writer';

const DIM = 6;
const rng = createRng(7);
/** Ids that a naive writer would get wrong: non-ASCII (split across read blocks) and long. */
const vectors: StoredVector[] = Array.from({ length: 5_000 }, (_, r) => ({
  id: r % 3 ? `user-${r}` : `ünïcødé-${'x'.repeat(r % 50)}-${r}`,
  blob: Buffer.from(Float32Array.from({ length: DIM }, () => rng.normal()).buffer),
}));
const map: EmbeddingMap = {
  dim: DIM,
  normalize: false,
  mean: Array(DIM).fill(0.1),
  components: [
    [1, 0, 0, 0, 0, 0],
    [0, 0.6, 0.8, 0, 0, 0],
  ],
  explainedVariance: [0.5, 0.2],
  rows: 5_000,
};
const values = (v: StoredVector) => Array.from(new Float32Array(Uint8Array.from(v.blob).buffer));
const float32 = (xs: number[]) => Array.from(Float32Array.from(xs));

// eslint-disable-next-line @typescript-eslint/require-await -- batches as a store's reader yields them, from memory
async function* batchesOf(rows: StoredVector[], size: number) {
  for (let at = 0; at < rows.length; at += size) yield rows.slice(at, at + size);
}

describe('export writers', () => {
  let dir: string;
  let reported: number[];
  const rows = (overrides: Partial<ExportRows> = {}): ExportRows => ({
    dim: DIM,
    map,
    batches: batchesOf(vectors, 700),
    progress: (n) => {
      reported.push(n);
      return Promise.resolve();
    },
    ...overrides,
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recoder-export-writer-'));
    reported = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('has one writer for every format', () => {
    for (const format of Object.values(ExportFormat)) expect(EXPORT_WRITERS[format].description).toMatch(/\w/);
  });

  it("NPY: float32 rows in the order of ids.txt, and each row's map coordinates", async () => {
    const written = await EXPORT_WRITERS[ExportFormat.NPY].write(dir, rows());
    expect(written).toEqual({ count: 5_000, files: ['vectors.npy', 'ids.txt', 'map.npy'] });
    const data = await readFile(join(dir, 'vectors.npy'));
    expect(data.toString('latin1', 10, NPY_HEADER_BYTES)).toContain(`'shape': (5000, ${DIM})`);
    expect(data.subarray(NPY_HEADER_BYTES)).toEqual(Buffer.concat(vectors.map((v) => v.blob)));
    expect((await readFile(join(dir, 'ids.txt'), 'utf8')).split('\n')).toEqual([...vectors.map((v) => v.id), '']);
    const coords = new Float32Array(
      Uint8Array.from((await readFile(join(dir, 'map.npy'))).subarray(NPY_HEADER_BYTES)).buffer,
    );
    expect(Array.from(coords.subarray(2 * 4321, 2 * 4322))).toEqual(float32(projectOnMap(map, values(vectors[4321]))));
    expect(reported).toEqual([700, 1400, 2100, 2800, 3500, 4200, 4900, 5000]);
  });

  it('NDJSON: one {"id", "vector", "map"} a line', async () => {
    const written = await EXPORT_WRITERS[ExportFormat.NDJSON].write(
      dir,
      rows({ batches: batchesOf(vectors.slice(0, 10), 4) }),
    );
    expect(written).toEqual({ count: 10, files: ['vectors.ndjson'] });
    const lines = (await readFile(join(dir, 'vectors.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(
      vectors.slice(0, 10).map((v) => ({ id: v.id, vector: values(v), map: projectOnMap(map, values(v)) })),
    );
  });

  it('Parquet: id and LIST<FLOAT> columns in row groups, as an independent reader (hyparquet) reads them', async () => {
    // row groups of 2,048 vectors of 6 floats (DuckDB's chunk): the 5,000 rows span three, in order
    const written = await parquetWriter(2_048 * DIM * 4).write(dir, rows());
    expect(written).toEqual({ count: 5_000, files: ['vectors.parquet'] });
    expect(await readdir(dir)).toEqual(['vectors.parquet']); // the scratch NPY files are gone
    const file = await fileBytes(join(dir, 'vectors.parquet'));
    const metadata = await parquetMetadataAsync(file);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([2_048, 2_048, 904]);
    const columns = parquetSchema(metadata).children;
    expect(
      columns.map((c) => [c.element.name, c.element.converted_type ?? c.element.logical_type?.type ?? null]),
    ).toEqual([
      ['id', 'UTF8'],
      ['vector', 'LIST'],
      ['map', 'LIST'],
    ]);
    expect(columns[1].children[0].children[0].element.type).toBe('FLOAT');
    const read = await parquetReadObjects({ file });
    expect(read.map((r) => r.id)).toEqual(vectors.map((v) => v.id));
    read.forEach((r, k) => {
      expect(r.vector).toEqual(values(vectors[k]));
      expect(r.map).toEqual(float32(projectOnMap(map, values(vectors[k]))));
    });
  });

  it('Parquet: no map column for a version without a map, and an empty export is a valid empty file', async () => {
    await parquetWriter().write(dir, rows({ map: null, batches: batchesOf(vectors.slice(0, 3), 2) }));
    const file = await fileBytes(join(dir, 'vectors.parquet'));
    expect(await parquetReadObjects({ file })).toEqual(
      vectors.slice(0, 3).map((v) => ({ id: v.id, vector: values(v) })),
    );

    const empty = await mkdtemp(join(tmpdir(), 'recoder-export-writer-'));
    try {
      expect(await parquetWriter().write(empty, rows({ batches: batchesOf([], 1) }))).toEqual({
        count: 0,
        files: ['vectors.parquet'],
      });
      expect(await parquetReadObjects({ file: await fileBytes(join(empty, 'vectors.parquet')) })).toEqual([]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it.each(Object.values(ExportFormat))('%s: refuses a vector of another length, naming it', async (format) => {
    const bad = [...vectors.slice(0, 2), { id: 'short', blob: Buffer.alloc(4 * (DIM - 1)) }];
    await expect(EXPORT_WRITERS[format].write(dir, rows({ batches: batchesOf(bad, 10) }))).rejects.toThrow(
      `vector of short has ${DIM - 1} values, the version ${DIM}`,
    );
  });
});
