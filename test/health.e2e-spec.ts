import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DisposableRedis } from '@app/testing';
import { createTestApiApp } from './create-test-app';

describe('GET /health (e2e)', () => {
  let redis: DisposableRedis;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    // a Redis of this test's own, so stopping it cannot disturb anything else
    redis = await DisposableRedis.start();
    app = await createTestApiApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  it('is up while Postgres and Redis answer', async () => {
    const res = await request(app.getHttpServer()).get('/health');
    expect(res.status).toBe(200);
    expect(res.body.details).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
  });

  it('reports a stopped Redis with 503 and names it', async () => {
    await redis.stop();
    const res = await request(app.getHttpServer()).get('/health');
    expect(res.status).toBe(503);
    expect(res.body.details.redis.status).toBe('down');
    expect(res.body.details.postgres.status).toBe('up');
  });
});
