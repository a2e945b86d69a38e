import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { TestStack } from './test-stack';
import { admin } from './test-env';
import { trainToCompletion } from './train-through-api';
// Debian's numpy, as a data scientist's notebook would load the file (not the writer's own code)
const PYTHON = '/usr/bin/python3';
const EXPORT = `mutation E($kind: EmbeddingKind!, $format: ExportFormat!) { exportEmbeddings(kind: $kind, format: $format) { id state } }`;
const JOB = `query J($id: ID!) { exportJob(id: $id) { state error count version files { name bytes sha256 url } } }`;

describe('embeddings for other services (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let workdir: string;

  beforeAll(async () => {
    stack = await TestStack.start({ data: generateSynthetic({ users: 300, items: 150, seed: 41, perUser: 15 }) });
    api = stack.api;
    workdir = await mkdtemp(join(tmpdir(), 'recoder-export-client-'));
    await trainToCompletion(api, { epochs: 3, embeddingDim: 12, hidden: [24] });
  });
  afterAll(() => stack.close());

  async function exported(kind: 'USER' | 'ITEM', format: 'NPY' | 'NDJSON') {
    const first = (await gql(api, EXPORT, { kind, format }, admin)).data!.exportEmbeddings;
    const second = (await gql(api, EXPORT, { kind, format }, admin)).data!.exportEmbeddings;
    expect(second.id).toBe(first.id); // deduplicated while queued or running
    for (;;) {
      const job = (await gql(api, JOB, { id: first.id }, admin)).data!.exportJob;
      if (job.state === 'COMPLETED') return job;
      if (job.state === 'FAILED') throw new Error(job.error);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function download(url: string): Promise<string> {
    const res = await request(api.getHttpServer()).get(url).set(admin).buffer(true).parse((r, done) => {
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
    const res = await gql(api, `query V($kind: EmbeddingKind!, $ids: [ID!]!) { embeddings(kind: $kind, ids: $ids) { dimension missing vectors { id vector } } }`, { kind, ids }, {});
    expect(res.errors).toBeUndefined();
    return res.data!.embeddings as { dimension: number; missing: string[]; vectors: Array<{ id: string; vector: number[] }> };
  }

  it('exports user embeddings as NPY that numpy loads, equal to what GraphQL returns', async () => {
    const job = await exported('USER', 'NPY');
    expect(job.count).toBe(300);
    const npy = await download(job.files.find((f: any) => f.name === 'vectors.npy').url);
    const ids = await download(job.files.find((f: any) => f.name === 'ids.txt').url);
    const script = `import json, sys, numpy as np
a = np.load(sys.argv[1])
ids = open(sys.argv[2]).read().splitlines()
print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "ids": ids, "rows": a.astype(float).tolist()}))`;
    const loaded = JSON.parse(execFileSync(PYTHON, ['-c', script, npy, ids], { maxBuffer: 64 * 2 ** 20 }).toString());
    expect(loaded.dtype).toBe('float32');
    expect(loaded.shape).toEqual([300, 12]);
    const fromApi = await graphqlVectors('USER', loaded.ids);
    expect(fromApi.missing).toEqual([]);
    expect(fromApi.dimension).toBe(12);
    fromApi.vectors.forEach((v, r) => {
      expect(v.id).toBe(loaded.ids[r]);
      expect(loaded.rows[r]).toEqual(v.vector); // float32 values, exactly
    });
  });

  it('exports item vectors as NDJSON that a line reader reads back exactly', async () => {
    const job = await exported('ITEM', 'NDJSON');
    const path = await download(job.files[0].url);
    const lines: Array<{ id: string; vector: number[] }> = [];
    for await (const line of createInterface({ input: createReadStream(path) })) lines.push(JSON.parse(line));
    expect(lines).toHaveLength(job.count);
    const fromApi = await graphqlVectors('ITEM', lines.map((l) => l.id));
    fromApi.vectors.forEach((v, r) => expect(lines[r].vector).toEqual(v.vector));
  });

  it('lists unknown ids as missing, and keeps downloads behind the admin key', async () => {
    const res = await graphqlVectors('USER', ['u1', 'nobody']);
    expect(res.missing).toEqual(['nobody']);
    expect(res.vectors.map((v) => v.id)).toEqual(['u1']);
    const job = await exported('USER', 'NPY');
    expect((await request(api.getHttpServer()).get(job.files[0].url)).status).toBe(401);
    expect((await request(api.getHttpServer()).get(`/exports/${job.id ?? 'x'}/..%2F..%2Fetc%2Fpasswd`).set(admin)).status).toBe(404);
  });
});
