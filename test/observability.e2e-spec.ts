import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createTestApiApp } from './create-test-app';
import { TEST_ADMIN_API_KEY } from './test-env';

describe('metrics and the queue dashboard (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApiApp();
  });
  afterAll(() => app.close());

  it('serves Prometheus metrics with the active version and job counts', async () => {
    const res = await request(app.getHttpServer()).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^recoder_active_model_version \d+$/m);
    expect(res.text).toMatch(/^recoder_jobs\{queue="training",state="waiting"\} \d+$/m);
    // a recount that keeps failing shows here
    expect(res.text).toMatch(/^recoder_jobs\{queue="popularity",state="failed"\} \d+$/m);
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });

  it('keeps Bull Board behind the admin key', async () => {
    expect((await request(app.getHttpServer()).get('/admin/queues')).status).toBe(401);
    expect(
      (await request(app.getHttpServer()).get('/admin/queues/api/queues').set('authorization', 'Bearer nope')).status,
    ).toBe(401);
    const ok = await request(app.getHttpServer())
      .get('/admin/queues/api/queues')
      .set('authorization', `Bearer ${TEST_ADMIN_API_KEY}`);
    expect(ok.status).toBe(200);
    expect(ok.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['export', 'popularity', 'training']);
  });
});
