import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { rm } from 'node:fs/promises';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import request from 'supertest';
import { generateSynthetic, syntheticItemAttributes, syntheticItemId } from '@app/synthetic';
import { firstErrorCode, gql, type GraphqlResponse, type UntypedData } from '@app/testing';
import { createKey, bearer } from '../security/security-stack';
import { admin, TEST_EXPORT_DIR } from '../test-env';
import { TestStack } from '../test-stack';
import { startTraining, trainToCompletion, waitForTraining } from '../train-through-api';
import { CONSOLE_BUILD, ensureConsoleBuilt } from '../../scripts/console-build';
import { kindPattern } from '@app/embedding-store';

const QUICK = { epochs: 3, embeddingDim: 16, hidden: [32], batchSize: 50, patience: 0, seed: 4 };
const DATA = generateSynthetic({ users: 300, items: 150, seed: 8, perUser: 15 });
const PAGE = `query P($kind: EmbeddingKind!, $after: String, $limit: Int!) {
  embeddingMapPage(kind: $kind, after: $after, limit: $limit) { version total nextCursor points { id coordinates } } }`;

/** The data the admin console reads beyond the other views' queries, and the console's own files. */
describe('console data and assets (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let version: number;
  /** embeddings alone; embeddings and serve. */
  let mapKey: string;
  let mapServeKey: string;

  beforeAll(async () => {
    // keys decide here: nothing is open without one
    process.env.PUBLIC_SCOPES = '';
    ensureConsoleBuilt();
    // an earlier file's export files would answer for this file's job ids, which start again at 1
    await rm(TEST_EXPORT_DIR, { recursive: true, force: true });
    stack = await TestStack.start({ data: DATA });
    api = stack.api;
    const items = Array.from({ length: DATA.items }, (_, i) => ({
      id: syntheticItemId(i),
      attributes: syntheticItemAttributes(DATA, i),
    }));
    const upsert = await gql(
      api,
      `mutation U($i: [ItemInput!]!) { upsertItems(input: $i) { id } }`,
      { i: items },
      admin,
    );
    expect(upsert.errors).toBeUndefined();
    ({ version } = await trainToCompletion(api, QUICK));
    mapKey = await createKey(api, 'map-only', ['embeddings']);
    mapServeKey = await createKey(api, 'map-serve', ['embeddings', 'serve']);
  });
  afterAll(async () => {
    await stack.close();
    await rm(TEST_EXPORT_DIR, { recursive: true, force: true });
  });

  it('lists training jobs newest first with their configuration; the running one is found without starting another', async () => {
    const list = await gql(
      api,
      `{ trainingJobs { id state config force createdAt finishedAt modelVersion { version } } }`,
      {},
      admin,
    );
    expect(list.data!.trainingJobs).toEqual([
      expect.objectContaining({ state: 'COMPLETED', config: QUICK, force: true, modelVersion: { version } }),
    ]);
    const first = list.data!.trainingJobs[0];
    expect(Date.parse(first.finishedAt)).toBeGreaterThanOrEqual(Date.parse(first.createdAt));

    const id = await startTraining(api, { ...QUICK, seed: 5 });
    // what a console that reloads mid-training asks: the unfinished jobs
    const open = await gql(api, `{ trainingJobs(states: [QUEUED, RUNNING]) { id state config } }`, {}, admin);
    expect(open.data!.trainingJobs).toEqual([expect.objectContaining({ id, config: { ...QUICK, seed: 5 } })]);
    expect(await startTraining(api, QUICK)).toBe(id);
    const next = await waitForTraining(api, id);
    const after = await gql(
      api,
      `{ trainingJobs(limit: 5) { id } done: trainingJobs(states: [FAILED]) { id } }`,
      {},
      admin,
    );
    expect(after.data!.trainingJobs.map((j: { id: string }) => j.id)).toEqual([id, first.id]);
    expect(after.data!.done).toEqual([]);
    version = next.version;
  });

  it('counts each queue', async () => {
    const res = await gql(api, `{ queues { name paused waiting active delayed completed failed } }`, {}, admin);
    const byName = Object.fromEntries(res.data!.queues.map((q: { name: string }) => [q.name, q]));
    expect(Object.keys(byName).sort()).toEqual(['export', 'popularity', 'training']);
    expect(byName.training).toMatchObject({ paused: false, waiting: 0, active: 0, failed: 0 });
    expect(byName.training.completed).toBeGreaterThanOrEqual(2);
  });

  it('counts interactions by the hour they were recorded, whenever they happened', async () => {
    const rate = async () =>
      (await gql(api, `{ ingestRate(hours: 3) { hour interactions } }`, {}, admin)).data!.ingestRate;
    const before = await rate();
    expect(before).toHaveLength(3);
    const hours = before.map((h: { hour: string }) => Date.parse(h.hour));
    expect(hours[1] - hours[0]).toBe(3600_000);
    expect(hours[2] - hours[1]).toBe(3600_000);
    expect(hours[2]).toBeLessThanOrEqual(Date.now());
    expect(Date.now() - hours[2]).toBeLessThan(3600_000);
    const total = (n: Array<{ interactions: number }>) => n.reduce((s, h) => s + h.interactions, 0);
    // the synthetic rows were imported minutes ago (their occurredAt is in 2024)
    expect(total(before)).toBe((await stack.db.query('SELECT count(*)::int AS n FROM interactions')).rows[0].n);

    const recorded = await gql(
      api,
      `mutation { recordInteractions(input: [{ userId: "u1", itemId: "i3", occurredAt: "2020-01-01T00:00:00Z" }, { userId: "u2", itemId: "i4" }]) { accepted } }`,
      {},
      admin,
    );
    expect(recorded.data!.recordInteractions.accepted).toBe(2);
    expect(total(await rate())).toBe(total(before) + 2);

    const bad = await gql(api, `{ ingestRate(hours: 169) { hour } }`, {}, admin);
    expect(firstErrorCode(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors![0].message).toMatch(/hours: must be an integer from 1 to 168/);
  });

  it("bins the active version's anomaly scores", async () => {
    const HISTOGRAM = `{ anomalyHistogram(bins: 7) { version users bins { from to users } } }`;
    // the API takes the new version up on its switch message (until then: none, or the old one's)
    let h = (await gql(api, HISTOGRAM, {}, admin)).data!.anomalyHistogram;
    for (let i = 0; i < 300 && h?.version !== version; i++) {
      await new Promise((r) => setTimeout(r, 100));
      h = (await gql(api, HISTOGRAM, {}, admin)).data!.anomalyHistogram;
    }
    const { rows } = await stack.db.query(
      'SELECT min(score)::float8 AS lo, max(score)::float8 AS hi, count(*)::int AS n FROM user_anomalies WHERE version = $1',
      [version],
    );
    expect(h.version).toBe(version);
    expect(h.users).toBe(rows[0].n);
    expect(h.users).toBeGreaterThan(0);
    expect(h.bins).toHaveLength(7);
    expect(h.bins.reduce((s: number, b: { users: number }) => s + b.users, 0)).toBe(h.users);
    expect(h.bins[0].from).toBeCloseTo(rows[0].lo, 5);
    expect(h.bins[6].to).toBeCloseTo(rows[0].hi, 5);
    for (let i = 1; i < 7; i++) expect(h.bins[i].from).toBeCloseTo(h.bins[i - 1].to, 9);
    // the lowest and highest scorers are counted in the end bins
    expect(h.bins[0].users).toBeGreaterThan(0);
    expect(h.bins[6].users).toBeGreaterThan(0);
  });

  it('pages every item of the version onto the map once, where embeddingMap puts it, with attributes for a serve key', async () => {
    const points: Array<{ id: string; coordinates: number[]; attributes?: unknown }> = [];
    let after: string | null = null;
    let pages = 0;
    let total = 0;
    do {
      const res: GraphqlResponse = await gql(
        api,
        `query P($after: String) { embeddingMapPage(kind: ITEM, after: $after, limit: 40) { version total nextCursor points { id coordinates attributes } } }`,
        { after },
        bearer(mapServeKey),
      );
      expect(res.errors).toBeUndefined();
      const page: UntypedData = res.data!.embeddingMapPage;
      expect(page.version).toBe(version);
      total = page.total;
      points.push(...page.points);
      after = page.nextCursor;
      pages++;
    } while (after);
    const published = (await stack.redis.keys(kindPattern(version, 'item'))).length;
    expect(total).toBe(published);
    expect(points).toHaveLength(published);
    expect(new Set(points.map((p) => p.id)).size).toBe(published);
    expect(pages).toBe(Math.ceil(DATA.items / 40));
    const index = Number(points[7].id.slice(1));
    expect(points[7].attributes).toEqual(syntheticItemAttributes(DATA, index));

    const ids = points.slice(0, 30).map((p) => p.id);
    const single = await gql(
      api,
      `query M($ids: [ID!]!) { embeddingMap(kind: ITEM, ids: $ids) { points { id coordinates } } }`,
      { ids },
      bearer(mapKey),
    );
    expect(single.data!.embeddingMap.points).toEqual(
      points.slice(0, 30).map(({ id, coordinates }) => ({ id, coordinates })),
    );
  });

  it('pages users too; needs embeddings, and serve for the attributes', async () => {
    const users = await gql(api, PAGE, { kind: 'USER', after: null, limit: 10_000 }, bearer(mapKey));
    const page = users.data!.embeddingMapPage;
    expect(page.nextCursor).toBeNull();
    expect(page.points).toHaveLength(page.total);
    expect(page.total).toBe((await stack.redis.keys(kindPattern(version, 'user'))).length);

    const attributes = await gql(
      api,
      `{ embeddingMapPage(kind: ITEM, limit: 5) { points { id attributes } } }`,
      {},
      bearer(mapKey),
    );
    expect(firstErrorCode(attributes)).toBe('FORBIDDEN');
    expect(attributes.errors![0].message).toMatch(/scope "serve"/);
    const serveOnly = await createKey(api, 'serve-only', ['serve']);
    expect(firstErrorCode(await gql(api, PAGE, { kind: 'ITEM', limit: 5 }, bearer(serveOnly)))).toBe('FORBIDDEN');
    expect(firstErrorCode(await gql(api, PAGE, { kind: 'ITEM', limit: 5 }))).toBe('UNAUTHENTICATED');
  });

  it('refuses a cursor it did not hand out and a page size out of range', async () => {
    const cursor = await gql(api, PAGE, { kind: 'ITEM', after: '../1', limit: 5 }, bearer(mapKey));
    expect(firstErrorCode(cursor)).toBe('BAD_USER_INPUT');
    expect(cursor.errors![0].message).toMatch(/^after: /);
    const size = await gql(api, PAGE, { kind: 'ITEM', limit: 10_001 }, bearer(mapKey));
    expect(firstErrorCode(size)).toBe('BAD_USER_INPUT');
    expect(size.errors![0].message).toMatch(/^limit: must be an integer from 1 to 10000/);
  });

  it('flags previews in the answer and counts them apart in /metrics', async () => {
    const metric = async (preview: boolean) => {
      const text = (await request(api.getHttpServer()).get('/metrics')).text;
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('recoder_recommendation_answers_total{') &&
            l.includes('subject="item"') &&
            l.includes(`preview="${preview}"`),
        );
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const [previews, shown] = [await metric(true), await metric(false)];
    const similar = `query S($p: Boolean!) { similarItems(itemId: "i3", limit: 3, preview: $p) { preview items { item { id } } } }`;
    const asPreview = await gql(api, similar, { p: true }, bearer(mapServeKey));
    expect(asPreview.data!.similarItems.preview).toBe(true);
    expect(asPreview.data!.similarItems.items).toHaveLength(3);
    const asShown = await gql(api, `{ similarItems(itemId: "i3", limit: 3) { preview } }`, {}, bearer(mapServeKey));
    expect(asShown.data!.similarItems.preview).toBe(false);
    expect(await metric(true)).toBe(previews + 1);
    expect(await metric(false)).toBe(shown + 1);
    const recs = await gql(
      api,
      `{ recommendations(userId: "u1", preview: true) { preview } }`,
      {},
      bearer(mapServeKey),
    );
    expect(recs.data!.recommendations.preview).toBe(true);
  });

  it('lists exports newest first with their kind and format', async () => {
    const started = await gql(api, `mutation { exportEmbeddings(kind: ITEM, format: NDJSON) { id } }`, {}, admin);
    const id = started.data!.exportEmbeddings.id;
    const res = await gql(api, `{ exportJobs { id kind format version } }`, {}, admin);
    expect(res.data!.exportJobs[0]).toEqual({ id, kind: 'ITEM', format: 'NDJSON', version });
  });

  it('serves the console: the page uncached with a strict CSP, assets by content hash cached for a year, precompressed', async () => {
    const http = request(api.getHttpServer());
    expect((await http.get('/console')).headers.location).toBe('/console/');
    const page = await http.get('/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    const script = /src="(\/console\/assets\/index-[\w-]+\.js)"/.exec(page.text)![1];
    const asset = await http
      .get(script)
      .set('accept-encoding', 'gzip')
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-encoding']).toBe('gzip');
    // the .gz written at build time went over the wire (supertest unzips it)
    const file = join(CONSOLE_BUILD, script.replace('/console/', ''));
    expect(Number(asset.headers['content-length'])).toBe(statSync(`${file}.gz`).size);
    expect((asset.body as Buffer).equals(readFileSync(file))).toBe(true);
    expect(gunzipSync(readFileSync(`${file}.gz`)).equals(readFileSync(file))).toBe(true);
    expect((await http.get('/console/assets/missing-0000.js')).status).toBe(404);
  });

  it('first loads at most 300 KB of gzipped JavaScript', () => {
    const page = readFileSync(join(CONSOLE_BUILD, 'index.html'), 'utf8');
    // every script the page loads or preloads
    const scripts = [...page.matchAll(/(?:src|href)="\/console\/(assets\/[\w.-]+\.js)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce((sum, file) => sum + statSync(join(CONSOLE_BUILD, `${file}.gz`)).size, 0);
    expect(gzipped).toBeLessThanOrEqual(300 * 1024);
  });

  it('tells a browser logging in which scopes are open to everyone', async () => {
    const res = await request(api.getHttpServer()).post('/auth/session').send({ key: mapKey });
    expect(res.body).toMatchObject({ name: 'map-only', scopes: ['embeddings'], publicScopes: [] });
  });
});
