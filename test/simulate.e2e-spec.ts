import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { runSimulation } from '../scripts/simulation';
import { gql } from '@app/testing';
import { admin, TEST_ADMIN_API_KEY } from './test-env';
import { TestStack } from './test-stack';

const TRAINING = { epochs: 15, embeddingDim: 24, hidden: [64], batchSize: 50, patience: 0, learningRate: 3e-3 };

/**
 * The acceptance scenario on a small population: a trained model against the same data with each
 * user's items shuffled, 50/50, asked, clicked and disliked over HTTP by simulated users.
 */
describe('simulated population (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let db: Pool;
  let url: string;

  beforeAll(async () => {
    stack = await TestStack.start();
    ({ api, db } = stack);
    await api.listen(0, '127.0.0.1');
    url = await api.getUrl();
  });
  afterAll(() => stack.close());

  it("shows the trained arm's CTR above the shuffled arm's, the 95% interval of the difference above zero", async () => {
    const lines: Record<string, any>[] = [];
    const options = {
      url,
      key: TEST_ADMIN_API_KEY,
      users: 300,
      items: 150,
      perUser: 15,
      seed: 2,
      rounds: 2,
      limit: 10,
      dislike: 0.05,
      concurrency: 4,
      setup: true,
      traffic: 0.5,
      training: TRAINING,
      out: (line: Record<string, unknown>) => lines.push(line),
    };
    await runSimulation(options);

    const { trained, shuffled } = lines[0].setup;
    expect(trained.status).toBe('ACTIVE');
    expect(shuffled.status).toBe('CANARY');
    const last = lines.filter((l) => l.round === 2);
    const control = last.find((l) => l.arm === 'CONTROL')!;
    const canary = last.find((l) => l.arm === 'CANARY')!;
    expect([control.version, canary.version]).toEqual([trained.version, shuffled.version]);
    // every user asked twice, 10 items each, split between the arms
    expect(control.users + canary.users).toBe(300);
    expect(control.shown + canary.shown).toBe(300 * 2 * 10);
    expect(control.ctr).toBeGreaterThan(canary.ctr);
    const difference = last.find((l) => l.compare === 'CONTROL - CANARY')!;
    expect(difference.ci95[0]).toBeGreaterThan(0);

    // the API's own online metrics agree: every impression reported and every click attributed to its arm
    const { online } = lines.find((l) => l.online)!;
    const arm = (role: string) => online.arms.find((a: { role: string }) => a.role === role);
    expect(arm('CONTROL')).toMatchObject({
      version: trained.version,
      impressions: control.shown,
      positives: control.clicks,
    });
    expect(arm('CANARY')).toMatchObject({
      version: shuffled.version,
      impressions: canary.shown,
      positives: canary.clicks,
    });
    expect(arm('CONTROL').ctr).toBeGreaterThan(arm('CANARY').ctr);
    // canary minus control: the shuffled arm's CTR lower, the interval below zero
    expect(online.ctrDifference.high).toBeLessThan(0);
    expect(online.ctrDifference.low).toBeLessThan(online.ctrDifference.difference);
    const metrics = async (version: number) => {
      const res = await gql(
        api,
        `query O($v: Int!) { onlineMetrics(version: $v, bucket: DAY) { total { answers impressions positives ctr } } }`,
        { v: version },
        admin,
      );
      expect(res.errors).toBeUndefined();
      return res.data!.onlineMetrics.total as { answers: number; impressions: number; positives: number; ctr: number };
    };
    const [trainedOnline, shuffledOnline] = [await metrics(trained.version), await metrics(shuffled.version)];
    expect(trainedOnline).toMatchObject({ impressions: control.shown, positives: control.clicks });
    expect(shuffledOnline).toMatchObject({ impressions: canary.shown, positives: canary.clicks });
    // each user asked once a round, and the setup's probes of the canary: answers at least the users' rounds
    expect(trainedOnline.answers + shuffledOnline.answers).toBeGreaterThanOrEqual(300 * 2);
    expect(trainedOnline.ctr).toBeGreaterThan(shuffledOnline.ctr);

    // the clicks and dislikes were recorded as events of their declared types
    const { rows } = await db.query<{ type: string; n: number }>(
      `SELECT type, count(*)::int AS n FROM interactions WHERE type IN ('click', 'dislike') AND event_id LIKE 'sim-2-_-%' GROUP BY type`,
    );
    const recorded = Object.fromEntries(rows.map((r) => [r.type, r.n]));
    expect(recorded.click).toBe(control.clicks + canary.clicks);
    expect(recorded.dislike).toBeGreaterThan(0);
  });
});
