import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { parquetReadObjects } from 'hyparquet';
import { mapKey } from '@app/embedding-store';
import { QueueName } from '@app/queue';
import { generateSynthetic, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { fileBytes, gql } from '@app/testing';
import { TestStack } from './test-stack';
import { admin } from './test-env';
import { trainToCompletion } from './train-through-api';

// Debian's numpy, as a data scientist's notebook would load the file (not the writer's own code)
const PYTHON = '/usr/bin/python3';
const EXPORT = `mutation E($kind: EmbeddingKind!, $format: ExportFormat!) { exportEmbeddings(kind: $kind, format: $format) { id state } }`;
const MAP = `query M($kind: EmbeddingKind!, $ids: [ID!]!, $version: Int) { embeddingMap(kind: $kind, ids: $ids, version: $version) { version components explainedVariance fittedOn missing points { id coordinates } } }`;
const JOB = `query J($id: ID!) { exportJob(id: $id) { state error count version files { name bytes sha256 url } } }`;

describe('embeddings for other services (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let workdir: string;

  const data = generateSynthetic({ users: 300, items: 150, seed: 41, perUser: 15 });

  beforeAll(async () => {
    stack = await TestStack.start({ data });
    api = stack.api;
    workdir = await mkdtemp(join(tmpdir(), 'recoder-export-client-'));
    // enough epochs for the users' map to show their taste clusters (3 leave it barely formed), of the
    // multinomial Mult-DAE this map was measured on (pinned: the default loss is logistic now)
    await trainToCompletion(api, { epochs: 30, embeddingDim: 12, hidden: [24], loss: 'multinomial' });
  });
  afterAll(() => stack.close());

  async function exported(kind: 'USER' | 'ITEM', format: 'NPY' | 'NDJSON' | 'PARQUET') {
    // asked twice while the first is still queued: one job. The queue is held paused for that moment,
    // or a small export may be done (and its deduplication released) before the second request lands.
    const queue = api.get<Queue>(getQueueToken(QueueName.Export));
    await queue.pause();
    let first: { id: string; state: string };
    try {
      first = (await gql(api, EXPORT, { kind, format }, admin)).data!.exportEmbeddings;
      const second = (await gql(api, EXPORT, { kind, format }, admin)).data!.exportEmbeddings;
      expect(first.state).toBe('QUEUED');
      expect(second.id).toBe(first.id);
    } finally {
      await queue.resume();
    }
    for (;;) {
      const job = (await gql(api, JOB, { id: first.id }, admin)).data!.exportJob;
      if (job.state === 'COMPLETED') return job;
      if (job.state === 'FAILED') throw new Error(job.error);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function download(url: string): Promise<string> {
    const res = await request(api.getHttpServer())
      .get(url)
      .set(admin)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    const path = join(workdir, url.split('/').slice(-2).join('-'));
    await writeFile(path, res.body as Buffer);
    return path;
  }

  async function graphqlVectors(kind: 'USER' | 'ITEM', ids: string[]) {
    const res = await gql(
      api,
      `query V($kind: EmbeddingKind!, $ids: [ID!]!) { embeddings(kind: $kind, ids: $ids) { dimension missing vectors { id vector } } }`,
      { kind, ids },
      {},
    );
    expect(res.errors).toBeUndefined();
    return res.data!.embeddings as {
      dimension: number;
      missing: string[];
      vectors: Array<{ id: string; vector: number[] }>;
    };
  }

  it('exports user embeddings as NPY that numpy loads, equal to what GraphQL returns', async () => {
    const job = await exported('USER', 'NPY');
    expect(job.count).toBe(300);
    const npy = await download(job.files.find((f: any) => f.name === 'vectors.npy').url);
    const ids = await download(job.files.find((f: any) => f.name === 'ids.txt').url);
    const script = `import json, sys, numpy as np
a = np.load(sys.argv[1])
ids = open(sys.argv[2]).read().splitlines()
m = np.load(sys.argv[3])
print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "ids": ids, "rows": a.astype(float).tolist(), "map_shape": list(m.shape), "map": m.astype(float).tolist()}))`;
    const map = await download(job.files.find((f: any) => f.name === 'map.npy').url);
    const loaded = JSON.parse(
      execFileSync(PYTHON, ['-c', script, npy, ids, map], { maxBuffer: 64 * 2 ** 20 }).toString(),
    );
    expect(loaded.dtype).toBe('float32');
    expect(loaded.shape).toEqual([300, 12]);
    const fromApi = await graphqlVectors('USER', loaded.ids);
    expect(fromApi.missing).toEqual([]);
    expect(fromApi.dimension).toBe(12);
    fromApi.vectors.forEach((v, r) => {
      expect(v.id).toBe(loaded.ids[r]);
      expect(loaded.rows[r]).toEqual(v.vector); // float32 values, exactly
    });
    // each row's place on the users' map, in the same order (float32)
    expect(loaded.map_shape).toEqual([300, 2]);
    const placed = (await gql(api, MAP, { kind: 'USER', ids: loaded.ids })).data!.embeddingMap.points;
    placed.forEach((p: { coordinates: number[] }, r: number) =>
      p.coordinates.forEach((x, j) => expect(loaded.map[r][j]).toBeCloseTo(x, 5)),
    );
  });

  it('exports item vectors as NDJSON that a line reader reads back exactly', async () => {
    const job = await exported('ITEM', 'NDJSON');
    const path = await download(job.files[0].url);
    const lines: Array<{ id: string; vector: number[]; map: number[] }> = [];
    for await (const line of createInterface({ input: createReadStream(path) })) lines.push(JSON.parse(line));
    expect(lines).toHaveLength(job.count);
    const fromApi = await graphqlVectors(
      'ITEM',
      lines.map((l) => l.id),
    );
    fromApi.vectors.forEach((v, r) => expect(lines[r].vector).toEqual(v.vector));
    const placed = (await gql(api, MAP, { kind: 'ITEM', ids: lines.map((l) => l.id) })).data!.embeddingMap.points;
    placed.forEach((p: { coordinates: number[] }, r: number) => expect(lines[r].map).toEqual(p.coordinates));
  });

  it('exports user embeddings as Parquet that another reader (hyparquet) reads, equal to what GraphQL returns', async () => {
    const job = await exported('USER', 'PARQUET');
    expect(job.count).toBe(300);
    expect(job.files.map((f: { name: string }) => f.name)).toEqual(['vectors.parquet']);
    const path = await download(job.files[0].url);
    expect(
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    ).toBe(job.files[0].sha256);
    // the writer is DuckDB's; hyparquet is a separate implementation of the format
    const rows = (await parquetReadObjects({ file: await fileBytes(path) })) as Array<{
      id: string;
      vector: number[];
      map: number[];
    }>;
    expect(rows).toHaveLength(300);
    const fromApi = await graphqlVectors(
      'USER',
      rows.map((r) => r.id),
    );
    expect(fromApi.missing).toEqual([]);
    fromApi.vectors.forEach((v, r) => {
      expect(v.id).toBe(rows[r].id);
      expect(rows[r].vector).toEqual(v.vector); // float32 values, exactly
    });
    const placed = (await gql(api, MAP, { kind: 'USER', ids: rows.map((r) => r.id) })).data!.embeddingMap.points;
    placed.forEach((p: { coordinates: number[] }, r: number) =>
      p.coordinates.forEach((x, j) => expect(rows[r].map[j]).toBeCloseTo(x, 5)),
    );
  });

  /** The map's coordinates against numpy's eigh of the vectors' covariance, equal up to each axis' sign. */
  async function expectNumpyPca(
    kind: 'USER' | 'ITEM',
    ids: string[],
    map: { explainedVariance: number[]; points: Array<{ id: string; coordinates: number[] }> },
  ) {
    const vectors = (await graphqlVectors(kind, ids)).vectors.map((v) => v.vector);
    const script = `import json, sys, numpy as np
x = np.array(json.load(sys.stdin), dtype=np.float64)
if sys.argv[1] == "ITEM": x = x / np.linalg.norm(x, axis=1, keepdims=True)
c = x - x.mean(axis=0)
w, v = np.linalg.eigh(np.cov(c, rowvar=False))
top = v[:, ::-1][:, :2]
print(json.dumps({"coords": (c @ top).tolist(), "explained": (w[::-1][:2] / w.sum()).tolist()}))`;
    const numpy = JSON.parse(
      execFileSync(PYTHON, ['-c', script, kind], {
        input: JSON.stringify(vectors),
        maxBuffer: 64 * 2 ** 20,
      }).toString(),
    );
    expect(map.points).toHaveLength(vectors.length);
    numpy.explained.forEach((e: number, j: number) => expect(map.explainedVariance[j]).toBeCloseTo(e, 4));
    for (let j = 0; j < 2; j++) {
      const sign = Math.sign(numpy.coords[0][j]) * Math.sign(map.points[0].coordinates[j]);
      map.points.forEach((p, r) => expect(p.coordinates[j]).toBeCloseTo(sign * numpy.coords[r][j], 3));
    }
  }

  const allUsers = Array.from({ length: 300 }, (_, u) => syntheticUserId(u));

  it('places users on a 2-D map: the first principal components of their embeddings, as numpy finds them', async () => {
    const res = await gql(api, MAP, { kind: 'USER', ids: [...allUsers, 'nobody'] });
    expect(res.errors).toBeUndefined();
    const map = res.data!.embeddingMap;
    expect(map).toMatchObject({ components: 2, fittedOn: 300, missing: ['nobody'] });
    expect(map.points).toHaveLength(300);
    const [first, second] = map.explainedVariance;
    expect(first).toBeGreaterThanOrEqual(second);
    expect(second).toBeGreaterThan(0);
    expect(first + second).toBeLessThanOrEqual(1);
    // the same PCA by numpy's eigh from the vectors GraphQL serves
    await expectNumpyPca('USER', allUsers, map);
  });

  it('puts users of the same taste near each other on the map', async () => {
    const { points } = (await gql(api, MAP, { kind: 'USER', ids: allUsers })).data!.embeddingMap;
    const distances = { within: [] as number[], between: [] as number[] };
    for (let a = 0; a < points.length; a++) {
      for (let b = a + 1; b < points.length; b++) {
        const d = Math.hypot(
          points[a].coordinates[0] - points[b].coordinates[0],
          points[a].coordinates[1] - points[b].coordinates[1],
        );
        distances[data.primaryCluster[a] === data.primaryCluster[b] ? 'within' : 'between'].push(d);
      }
    }
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    // the generator's ground truth: a user's primary taste cluster
    expect(mean(distances.within)).toBeLessThan(0.7 * mean(distances.between));
  });

  it('maps items by the direction of their vectors, and refuses a version with no map', async () => {
    const items = Array.from({ length: 150 }, (_, i) => syntheticItemId(i));
    const res = await gql(api, MAP, { kind: 'ITEM', ids: items });
    expect(res.errors).toBeUndefined();
    const map = res.data!.embeddingMap;
    expect(map.fittedOn).toBe(150);
    expect(map.points.map((p: { id: string }) => p.id)).toEqual(items.filter((id) => !map.missing.includes(id)));
    await expectNumpyPca('ITEM', items, map);
    // a version published before maps existed: the map's key is gone, the vectors are still there
    await stack.redis.del(mapKey(map.version, 'item'));
    const old = await gql(api, MAP, { kind: 'ITEM', ids: items, version: map.version });
    expect(old.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(old.errors?.[0].message).toMatch(/no item map.*retrain/);
    expect((await gql(api, MAP, { kind: 'USER', ids: ['u1'], version: 999 })).errors?.[0].extensions?.code).toBe(
      'NOT_FOUND',
    );
    expect(
      (await gql(api, MAP, { kind: 'USER', ids: Array.from({ length: 1001 }, (_, i) => `u${i}`) })).errors?.[0]
        .extensions?.code,
    ).toBe('BAD_USER_INPUT');
  });

  it('lists unknown ids as missing, and keeps downloads behind the admin key', async () => {
    const res = await graphqlVectors('USER', ['u1', 'nobody']);
    expect(res.missing).toEqual(['nobody']);
    expect(res.vectors.map((v) => v.id)).toEqual(['u1']);
    const job = await exported('USER', 'NPY');
    expect((await request(api.getHttpServer()).get(job.files[0].url)).status).toBe(401);
    expect(
      (
        await request(api.getHttpServer())
          .get(`/exports/${job.id ?? 'x'}/..%2F..%2Fetc%2Fpasswd`)
          .set(admin)
      ).status,
    ).toBe(404);
  });
});
