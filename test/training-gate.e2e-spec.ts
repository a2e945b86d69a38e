import { ModelVersionRepository, TrainingDataRepository } from '@app/database';
import {
  buildInteractionMatrix,
  deserializeModel,
  evaluateRanking,
  HeldOutRows,
  LoadedModel,
  reindexHeldOut,
  sliceRows,
  STRONG_METRICS,
} from '@app/model';
import { generateSynthetic, syntheticUserId } from '@app/synthetic';
import { gql } from '@app/testing';
import { splitForTraining } from '../apps/jobs/src/training/training-split';
import { TestStack } from './test-stack';
import { admin } from './test-env';
import { trainToCompletion } from './train-through-api';
import { activeKey, metaKey } from '@app/embedding-store';

const CONFIG = { epochs: 8, embeddingDim: 24, hidden: [64], patience: 0, batchSize: 50, learningRate: 3e-3 };
const MODEL = `query M($v: Int) { model(version: $v) { version status error
  metrics { ndcg100 heldOutUsers validationUsers gate { liveVersion liveNdcg100 candidateNdcg100 users } } } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const QUALITY_TOLERANCE = 0.02;

describe("the quality gate scores the live model on the candidate's held-out users (e2e)", () => {
  let stack: TestStack;
  const data = generateSynthetic({ users: 500, items: 300, seed: 11, perUser: 25, clusters: 8 });

  beforeAll(async () => {
    stack = await TestStack.start({ data });
  });
  afterAll(() => stack.close());

  const model = async (version: number) => (await gql(stack.api, MODEL, { v: version }, admin)).data!.model;
  const stored = async (version: number): Promise<LoadedModel> =>
    deserializeModel((await stack.jobs!.get(ModelVersionRepository).weights(version))!);
  /** NDCG@100 of a stored model on held-out rows of the job's item index, computed here. */
  const ndcgOf = (loaded: LoadedModel, set: HeldOutRows, itemIds: readonly string[]) => {
    const own = reindexHeldOut(set, itemIds, loaded.itemIds);
    return evaluateRanking(
      (rows, start, end) => loaded.model.scores(sliceRows(rows, start, end)),
      own.input,
      own.heldOut,
      STRONG_METRICS,
    )['ndcg@100'];
  };

  it("stores the second version's comparison: the first model rescored on the second's held-out users, not its stored figure", async () => {
    const first = await trainToCompletion(stack.api, { ...CONFIG, seed: 3 }, false);
    const v1 = await model(first.version);
    expect(v1.metrics).toMatchObject({ heldOutUsers: 50, validationUsers: 50, gate: null });

    // an item the first model never saw: the gate maps items by id and counts it as a miss for the live model
    const input = Array.from({ length: 200 }, (_, u) => ({
      userId: syntheticUserId(u),
      itemId: 'fresh-item',
      type: 'view',
    }));
    expect((await gql(stack.api, RECORD, { input }, admin)).data!.recordInteractions.accepted).toBe(200);
    // another seed: other held-out users, so the first version's stored figure is not theirs
    const second = await trainToCompletion(stack.api, { ...CONFIG, seed: 4 }, false);
    const v2 = await model(second.version);
    const gate = v2.metrics.gate;
    expect(gate).toMatchObject({ liveVersion: first.version, users: 50, candidateNdcg100: v2.metrics.ndcg100 });
    expect(v2.metrics.heldOutUsers).toBe(gate.users);

    // the job's split, rebuilt from the same rows and seed
    const { matrix, items } = buildInteractionMatrix({
      ...(await stack.jobs!.get(TrainingDataRepository).loadAll()),
      duplicates: 'max',
    });
    const split = splitForTraining(matrix, 4);
    const [liveModel, candidateModel] = [await stored(first.version), await stored(second.version)];
    try {
      expect(liveModel.itemIds).not.toContain('fresh-item');
      const itemIds = items.ids();
      const live = ndcgOf(liveModel, split.gate, itemIds);
      expect(gate.liveNdcg100).toBeCloseTo(live, 6);
      expect(gate.liveNdcg100).not.toBeCloseTo(v1.metrics.ndcg100, 4);
      // the second version's own figure is from the same held-out users, not from its early-stopping users
      expect(v2.metrics.ndcg100).toBeCloseTo(ndcgOf(candidateModel, split.gate, itemIds), 6);
      expect(v2.metrics.ndcg100).not.toBeCloseTo(ndcgOf(candidateModel, split.earlyStopping, itemIds), 4);
    } finally {
      liveModel.model.dispose();
      candidateModel.model.dispose();
    }
    // and the gate decided on those two figures
    const passes = gate.candidateNdcg100 + QUALITY_TOLERANCE >= gate.liveNdcg100;
    expect(v2.status).toBe(passes ? 'ACTIVE' : 'READY');
    if (!passes) expect(v2.error).toContain('on the same 50 held-out users');
  });

  it('refuses a worse model without force: the live version stays ACTIVE and served, the candidate READY with the reason', async () => {
    const live = (await stack.db.query(`SELECT version FROM model_versions WHERE status = 'ACTIVE'`)).rows[0]
      .version as number;
    // barely trained (one epoch at a learning rate that moves nothing): its ranking is the random initialisation's
    const worse = await trainToCompletion(stack.api, { ...CONFIG, epochs: 1, learningRate: 1e-9, seed: 5 }, false);
    expect(worse.status).toBe('READY');
    const refused = await model(worse.version);
    expect(refused.metrics.gate).toMatchObject({ liveVersion: live, users: 50 });
    expect(refused.metrics.gate.candidateNdcg100 + QUALITY_TOLERANCE).toBeLessThan(refused.metrics.gate.liveNdcg100);
    expect(refused.error).toMatch(
      new RegExp(
        `^not activated: NDCG@100 [0-9.]+ is worse than the active v${live}'s [0-9.]+ on the same 50 held-out users by more than ${QUALITY_TOLERANCE}$`,
      ),
    );
    expect((await model(live)).status).toBe('ACTIVE');
    expect(await stack.redis.get(activeKey())).toBe(String(live));
    const served = await gql(
      stack.api,
      `{ recommendations(userId: "${syntheticUserId(1)}", limit: 5) { modelVersion } }`,
    );
    expect(served.data!.recommendations.modelVersion).toBe(live);
    // kept complete, so an admin may still activate it by hand
    expect(await stack.redis.exists(metaKey(worse.version))).toBe(1);
  });
});
