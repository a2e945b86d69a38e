import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { FILE_STAGING_COLUMNS, importStagedRows } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { admin, TEST_DATABASE_URL } from './test-env';
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
  const seenBy = async (user: string) =>
    new Set(
      (
        await db.query(
          `SELECT i.external_id AS id FROM interactions x JOIN users u ON u.id = x.user_id JOIN items i ON i.id = x.item_id WHERE u.external_id = $1`,
          [user],
        )
      ).rows.map((r) => r.id),
    );
  async function untilTraining(id: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const progress = (await gql(api, JOB, { id }, admin)).data!.trainingJob.progress;
      if (progress?.phase === 'train' && progress.epoch >= 1) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the training never reached its first epoch');
  }
  /** Answers until one comes from `version` (an API process looks within 10 s); returns that first one. */
  async function firstAnswerFrom(user: string, version: number) {
    let answer = await recommend(user);
    for (let i = 0; i < 150 && answer.modelVersion !== version; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await recommend(user);
    }
    return answer;
  }

  it('an event recorded while a model trains is folded in by the first answer from the version that training published', async () => {
    await trainToCompletion(api, QUICK);
    const id = await startTraining(api, LONG);
    await untilTraining(id);
    // the training has read its data: the event is not in the new version's embeddings
    const seen = await seenBy('u7');
    const before = await recommend('u7');
    const item = before.items.map((i: { item: { id: string } }) => i.item.id).find((x: string) => !seen.has(x));
    const recorded = await gql(
      api,
      RECORD,
      { input: [{ userId: 'u7', itemId: item, type: 'purchase', eventId: 'during-training' }] },
      admin,
    );
    expect(recorded.data!.recordInteractions.accepted).toBe(1);
    // still under way once the event is in: its version is not published yet
    expect((await db.query('SELECT status FROM model_versions WHERE job_id = $1', [id])).rows[0].status).toBe(
      'TRAINING',
    );

    const { version } = await waitForTraining(api, id, 240);
    const answer = await firstAnswerFrom('u7', version);
    // the first answer from the new version: its cached embedding is flagged stale, so the event is folded in
    expect(answer).toMatchObject({ modelVersion: version, source: 'FOLD_IN' });
    expect(answer.items.map((i: { item: { id: string } }) => i.item.id)).not.toContain(item);
  });

  it('a bulk import begun more than a minute before a training read its data, committed during it, is stale in the version it publishes', async () => {
    await trainToCompletion(api, QUICK);
    const seen = await seenBy('u9');
    const item = (await recommend('u9')).items
      .map((i: { item: { id: string } }) => i.item.id)
      .find((x: string) => !seen.has(x));
    // the import's transaction opens now and stays open, its rows held back, until the training has read its data
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const imported = importStagedRows(
      { url: TEST_DATABASE_URL },
      {
        chunks: (async function* () {
          await held;
          yield `0\t0\t1\t${Date.now() / 1000}\n`;
        })(),
        columns: FILE_STAGING_COLUMNS,
        defaultType: 'purchase',
        rowsSoFar: () => 1,
        userIds: () => ['u9'],
        itemIds: () => [item],
        mayRepeatKeys: () => false,
      },
    );
    try {
      // longer than any margin before the read's snapshot that rows are looked at from
      await new Promise((r) => setTimeout(r, 65_000));
      const id = await startTraining(api, LONG);
      await untilTraining(id);
      release();
      expect((await imported).inserted).toBe(1);
      expect((await db.query('SELECT status FROM model_versions WHERE job_id = $1', [id])).rows[0].status).toBe(
        'TRAINING',
      );

      const { version } = await waitForTraining(api, id, 240);
      const answer = await firstAnswerFrom('u9', version);
      expect(answer).toMatchObject({ modelVersion: version, source: 'FOLD_IN' });
      expect(answer.items.map((i: { item: { id: string } }) => i.item.id)).not.toContain(item);
    } finally {
      release();
      await imported.catch(() => undefined);
    }
  }, 300_000);
});
