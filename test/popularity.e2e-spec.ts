import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import type { Pool } from 'pg';
import { JobName, QueueName } from '@app/queue';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { POPULARITY_SCHEDULER_ID } from '../apps/jobs/src/popularity/popularity-schedule';
import { createTestJobsApp } from './create-test-jobs-app';
import { TestStack } from './test-stack';

const COLD = `query { recommendations(userId: "never-seen", limit: 3) { source items { score item { id } } } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const UPSERT = `mutation U($input: [ItemInput!]!) { upsertItems(input: $input) { id } }`;

describe('popularity recount (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let db: Pool;
  const data = generateSynthetic({ users: 120, items: 60, seed: 5, perUser: 10, clusters: 4 });

  const queue = (app: NestFastifyApplication) => app.get<Queue>(getQueueToken(QueueName.Popularity));
  const stored = async () =>
    new Map(
      (
        await db.query(
          `SELECT i.external_id AS id, p.interactions AS n FROM item_popularity p JOIN items i ON i.id = p.item_id`,
        )
      ).rows.map((r) => [r.id as string, r.n as number]),
    );
  const counted = async () =>
    new Map(
      (
        await db.query(
          `SELECT i.external_id AS id, count(*)::float8 AS n FROM interactions x JOIN items i ON i.id = x.item_id GROUP BY i.external_id`,
        )
      ).rows.map((r) => [r.id as string, r.n as number]),
    );

  /** Enqueues a recount as the scheduler does and waits for the worker's result. */
  async function recount(): Promise<{ items: number; changed: number }> {
    const job = await queue(stack.jobs!).add(JobName.RecountPopularity, { requestedAt: 'test' });
    for (let i = 0; i < 150; i++) {
      const state = await job.getState();
      if (state === 'completed') return (await queue(stack.jobs!).getJob(job.id!))!.returnvalue;
      if (state === 'failed')
        throw new Error(`recount failed: ${(await queue(stack.jobs!).getJob(job.id!))!.failedReason}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('recount did not finish in 15 s');
  }

  /** The catalogue reloads on an item write (else within its refresh interval): what cold start answers now. */
  async function coldStart(touch: string) {
    expect((await gql(api, UPSERT, { input: [{ id: touch }] })).errors).toBeUndefined();
    return (await gql(api, COLD)).data!.recommendations;
  }

  beforeAll(async () => {
    stack = await TestStack.start({ data });
    ({ api, db } = stack);
  });
  afterAll(() => stack.close());

  it("stores the interactions' counts, then follows interactions recorded since, rewriting only what changed", async () => {
    expect(await recount()).toEqual({
      items: (await counted()).size,
      changed: (await counted()).size,
      seconds: expect.any(Number),
    });
    expect(await stored()).toEqual(await counted());

    // the least popular item gets more interactions than any other: stored counts lag until a recount
    const before = await stored();
    const rising = [...before].reduce((a, b) => (b[1] < a[1] ? b : a))[0];
    const top = Math.max(...before.values());
    const input = Array.from({ length: top + 5 }, (_, k) => ({ userId: `fan${k}`, itemId: rising }));
    expect((await gql(api, RECORD, { input })).data!.recordInteractions.accepted).toBe(input.length);
    expect((await coldStart(rising)).items[0].item.id).not.toBe(rising);

    expect(await recount()).toMatchObject({ changed: 1 });
    const cold = await coldStart(rising);
    expect(cold.source).toBe('POPULARITY');
    expect(cold.items[0]).toEqual({ item: { id: rising }, score: before.get(rising)! + input.length });

    // nothing new: nothing rewritten
    expect(await recount()).toMatchObject({ changed: 0 });
  });

  it('drops the count of an item whose interactions were all deleted', async () => {
    const gone = [...(await stored()).keys()][0];
    await db.query(`DELETE FROM interactions WHERE item_id = (SELECT id FROM items WHERE external_id = $1)`, [gone]);
    expect(await recount()).toMatchObject({ changed: 1 });
    expect((await stored()).has(gone)).toBe(false);
    expect(await stored()).toEqual(await counted());
  });

  it('is scheduled by POPULARITY_CRON in the worker, and "off" removes the schedule', async () => {
    const scheduled = await createTestJobsApp({ POPULARITY_CRON: '*/5 * * * *' });
    try {
      expect(await queue(scheduled).getJobScheduler(POPULARITY_SCHEDULER_ID)).toMatchObject({
        pattern: '*/5 * * * *',
        name: JobName.RecountPopularity,
      });
    } finally {
      await scheduled.close();
    }
    const off = await createTestJobsApp({ POPULARITY_CRON: 'off' });
    try {
      expect(await queue(off).getJobScheduler(POPULARITY_SCHEDULER_ID)).toBeFalsy();
    } finally {
      await off.close();
    }
  });
});
