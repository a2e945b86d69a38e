import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createTestApiApp } from '../create-test-app';
import { TestStack } from '../test-stack';
import { bearer, createKey, storeCounts } from './security-stack';

const RECORD = { query: 'mutation { recordInteractions(input: [{ userId: "rl", itemId: "i1" }]) { accepted } }' };

describe('rate limit per key, across replicas (attacks)', () => {
  let stack: TestStack;
  let replicas: NestFastifyApplication[];

  beforeAll(async () => {
    process.env.PUBLIC_SCOPES = '';
    stack = await TestStack.start({ worker: false });
    replicas = [
      await createTestApiApp({ RATE_LIMIT_PER_MINUTE: '4' }),
      await createTestApiApp({ RATE_LIMIT_PER_MINUTE: '4' }),
    ];
  });
  afterAll(async () => {
    for (const app of replicas) await app.close();
    await stack.close();
  });

  it('answers 429 RATE_LIMITED once a key has spent its minute on any replica, writes nothing more, and leaves other keys alone', async () => {
    const key = await createKey(stack.api, 'busy', ['ingest']);
    const other = await createKey(stack.api, 'quiet', ['ingest']);
    const post = (app: NestFastifyApplication, k: string) =>
      request(app.getHttpServer()).post('/graphql').set(bearer(k)).send(RECORD);
    // the replicas learn of the keys by the change message
    for (let i = 0; i < 100 && (await post(replicas[1], other)).body.errors; i++)
      await new Promise((r) => setTimeout(r, 50));
    const statuses = [];
    for (const app of [replicas[0], replicas[1], replicas[0], replicas[1]])
      statuses.push((await post(app, key)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const before = await storeCounts(stack.db);
    const limited = await post(replicas[0], key);
    expect(limited.status).toBe(429);
    expect(limited.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(limited.body.errors[0].message).toMatch(/Rate limit exceeded: 4 requests per minute per key; retry in/);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await post(replicas[1], key)).status).toBe(429);
    expect(await storeCounts(stack.db)).toEqual(before);
    expect((await post(replicas[1], other)).status).toBe(200);
    // probes are never limited
    for (let i = 0; i < 6; i++)
      expect((await request(replicas[0].getHttpServer()).get('/health')).status).not.toBe(429);
  });

  it('is off by default', async () => {
    const key = await createKey(stack.api, 'unlimited', ['ingest']);
    for (let i = 0; i < 8; i++)
      expect((await request(stack.api.getHttpServer()).post('/graphql').set(bearer(key)).send(RECORD)).status).toBe(
        200,
      );
  });
});

describe('docker-compose.yml', () => {
  it('has no default admin key: compose refuses to start without ADMIN_API_KEY', async () => {
    const compose = parse(await readFile(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'));
    const services = ['migrate', 'api', 'jobs'].map((name) => compose.services[name].environment.ADMIN_API_KEY);
    expect(services).toEqual(Array(3).fill('${ADMIN_API_KEY:?set ADMIN_API_KEY}'));
  });
});
