import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { admin } from './test-env';
import { TestStack } from './test-stack';
import { startTraining, trainToCompletion, waitForTraining } from './train-through-api';

const QUICK = { epochs: 3, embeddingDim: 16, hidden: [32], batchSize: 50, patience: 0, seed: 2 };
const LONG = { ...QUICK, epochs: 60 };
const RECS = `query R($u: ID!) { recommendations(userId: $u, limit: 10) { source modelVersion items { item { id } } } }`;
const RECORD = `mutation I($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const JOB = `query J($id: ID!) { trainingJob(id: $id) { progress { phase epoch } } }`;

describe('freshness across a training (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let db: Pool;

  beforeAll(async () => {
    stack = await TestStack.start({ data: generateSynthetic({ users: 300, items: 150, seed: 12, perUser: 15 }) });
    ({ api, db } = stack);
  });
  afterAll(() => stack.close());

  const recommend = async (user: string) => (await gql(api, RECS, { u: user }, admin)).data!.recommendations;

  it('an event recorded while a model trains is folded in by the first answer from the version that training published', async () => {
    await trainToCompletion(api, QUICK);
    const id = await startTraining(api, LONG);
    for (let i = 0; i < 600; i++) {
      const progress = (await gql(api, JOB, { id }, admin)).data!.trainingJob.progress;
      if (progress?.phase === 'train' && progress.epoch >= 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // the training has read its data: the event is not in the new version's embeddings
    const seen = new Set((await db.query(`SELECT i.external_id AS id FROM interactions x JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id WHERE u.external_id = 'u7'`)).rows.map((r) => r.id));
    const before = await recommend('u7');
    const item = before.items.map((i: { item: { id: string } }) => i.item.id).find((x: string) => !seen.has(x));
    const recorded = await gql(api, RECORD, { input: [{ userId: 'u7', itemId: item, type: 'purchase', eventId: 'during-training' }] }, admin);
    expect(recorded.data!.recordInteractions.accepted).toBe(1);
    // still under way once the event is in: its version is not published yet
    expect((await db.query('SELECT status FROM model_versions WHERE job_id = $1', [id])).rows[0].status).toBe('TRAINING');

    const { version } = await waitForTraining(api, id, 240);
    let answer = await recommend('u7');
    for (let i = 0; i < 100 && answer.modelVersion !== version; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await recommend('u7');
    }
    // the first answer from the new version: its cached embedding is flagged stale, so the event is folded in
    expect(answer).toMatchObject({ modelVersion: version, source: 'FOLD_IN' });
    expect(answer.items.map((i: { item: { id: string } }) => i.item.id)).not.toContain(item);
  });
});
