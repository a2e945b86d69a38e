import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { createServer } from 'node:net';
import type { Pool } from 'pg';
import { inCanaryArm, ModelRegistryService } from '@app/registry';
import { generateSynthetic } from '@app/synthetic';
import { firstErrorCode, gql, scanKeys } from '@app/testing';
import { LiveModelService } from '../apps/api/src/recommendations/live-model.service';
import { AppProcess, gqlAt, startApiProcess } from './faults/processes';
import { admin } from './test-env';
import { TestStack } from './test-stack';
import { trainToCompletion } from './train-through-api';

const QUICK = { epochs: 3, embeddingDim: 16, hidden: [32], batchSize: 50, patience: 0, seed: 4 };
const USERS = Array.from({ length: 60 }, (_, u) => `u${u}`);

const RECS = `query R($u: ID!, $f: ItemFilter) { recommendations(userId: $u, limit: 5, filter: $f) { source modelVersion items { item { id } } } }`;
const SESSION = `query S($u: ID, $i: [ID!]!) { recommendationsForItems(itemIds: $i, userId: $u, limit: 5) { modelVersion } }`;
const SIMILAR = `query S($u: ID, $i: ID!) { similarItems(itemId: $i, userId: $u, limit: 5) { modelVersion } }`;
const EXPERIMENT = `query E($id: Int) { experiment(id: $id) { id status traffic controlVersion canaryVersion startedAt endedAt endedReason arms { role version traffic } } }`;
const START = `mutation A($v: Int!, $t: Float) { activateModel(version: $v, traffic: $t) { version status } }`;
const PROMOTE = `mutation { promoteExperiment { id status canaryVersion } }`;
const ABORT = `mutation { abortExperiment { id status endedReason } }`;

/** Traffic split between a CANARY and the ACTIVE version, on two API processes over one Postgres and Redis. */
describe('experiments (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let db: Pool;
  let redis: Redis;
  let other: AppProcess;
  let control: number;
  let canary: number;

  beforeAll(async () => {
    stack = await TestStack.start({ data: generateSynthetic({ users: 300, items: 150, seed: 8, perUser: 15 }) });
    ({ api, db, redis } = stack);
    other = await startApiProcess(await freePort());
  });
  afterAll(async () => {
    await other?.kill();
    await stack.close();
  });

  const statusOf = async (version: number) =>
    (await db.query('SELECT status FROM model_versions WHERE version = $1', [version])).rows[0]?.status as string;
  const saltOf = async (id: number) =>
    (await db.query('SELECT salt FROM experiments WHERE id = $1', [id])).rows[0].salt as string;
  const servedHere = async (u: string) => (await gql(api, RECS, { u })).data!.recommendations.modelVersion as number;
  const servedThere = async (u: string) =>
    (await gqlAt(other, RECS, { u })).data!.recommendations.modelVersion as number;
  async function until(what: string, probe: () => Promise<boolean>, seconds = 120): Promise<void> {
    for (let i = 0; i < seconds * 5; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  /** Both processes answer every user from the version `expected` names. */
  async function untilBothServe(expected: (u: string) => number): Promise<void> {
    await until('both API processes to serve the arms', async () => {
      for (const u of USERS)
        if ((await servedHere(u)) !== expected(u) || (await servedThere(u)) !== expected(u)) return false;
      return true;
    });
  }

  it('a canary retrain starts an experiment; both API processes put each user in the same arm on every path', async () => {
    control = (await trainToCompletion(api, QUICK)).version;
    const trained = await trainToCompletion(api, { ...QUICK, seed: 5, canary: 0.5 });
    canary = trained.version;
    expect(trained.status).toBe('CANARY');
    expect(await statusOf(control)).toBe('ACTIVE');
    // readers of Redis keep following the ACTIVE version
    expect(Number(await redis.get('recoder:active'))).toBe(control);
    expect(Number(await redis.get('recoder:canary'))).toBe(canary);

    const experiment = (await gql(api, EXPERIMENT, {}, admin)).data!.experiment;
    expect(experiment).toMatchObject({
      status: 'RUNNING',
      traffic: 0.5,
      controlVersion: control,
      canaryVersion: canary,
      endedAt: null,
      arms: [
        { role: 'CONTROL', version: control, traffic: 0.5 },
        { role: 'CANARY', version: canary, traffic: 0.5 },
      ],
    });
    expect(Date.parse(experiment.startedAt)).toBeGreaterThan(Date.now() - 600_000);

    const salt = await saltOf(experiment.id);
    const arm = (u: string) => (inCanaryArm(salt, 0.5, u) ? canary : control);
    const canaryUsers = USERS.filter((u) => arm(u) === canary);
    // both arms have users (60 draws at 0.5: fewer than 15 in one arm has odds under 1 in 10,000)
    expect(canaryUsers.length).toBeGreaterThan(15);
    expect(canaryUsers.length).toBeLessThan(45);
    await untilBothServe(arm);
    // and again: the same answer every time
    for (const u of USERS.slice(0, 10)) expect([await servedHere(u), await servedThere(u)]).toEqual([arm(u), arm(u)]);

    // the other paths: a filter, a fold-in after an event, a session and an item page with the user's id
    const [inCanary, inControl] = [canaryUsers[0], USERS.find((u) => arm(u) === control)!];
    for (const u of [inCanary, inControl]) {
      const filtered = (await gql(api, RECS, { u, f: { excludeIds: ['i0', 'i1', 'i2'] } })).data!.recommendations;
      expect(filtered.modelVersion).toBe(arm(u));
      await gql(api, `mutation { recordInteractions(input: [{ userId: "${u}", itemId: "i7" }]) { accepted } }`);
      const folded = (await gql(api, RECS, { u })).data!.recommendations;
      expect(folded).toMatchObject({ source: 'FOLD_IN', modelVersion: arm(u) });
      expect((await gqlAt(other, RECS, { u })).data!.recommendations.modelVersion).toBe(arm(u));
      const session = (await gql(api, SESSION, { u, i: ['i3', 'i4'] })).data!.recommendationsForItems;
      expect(session.modelVersion).toBe(arm(u));
      const similar = (await gqlAt(other, SIMILAR, { u, i: 'i3' })).data!.similarItems;
      expect(similar.modelVersion).toBe(arm(u));
    }
    // without a user, the ACTIVE version answers
    expect((await gql(api, SESSION, { i: ['i3', 'i4'] })).data!.recommendationsForItems.modelVersion).toBe(control);
    expect((await gql(api, SIMILAR, { i: 'i3' })).data!.similarItems.modelVersion).toBe(control);
    // the API process holds both models
    expect(api.get(LiveModelService).currentExperiment()?.canary.version).toBe(canary);
  });

  it('a canary is complete: the sweep leaves its keys, and erasure reaches them', async () => {
    const keys = (await scanKeys(redis, `recoder:v${canary}:user:*`)).length;
    expect(keys).toBeGreaterThan(200);
    await stack.jobs!.get(ModelRegistryService).sweepLeftovers();
    expect(await scanKeys(redis, `recoder:v${canary}:user:*`)).toHaveLength(keys);
    expect(await redis.exists(`recoder:v${canary}:meta`)).toBe(1);

    expect(await redis.exists(`recoder:v${canary}:user:u250`)).toBe(1);
    const erased = await gql(api, `mutation { deleteUser(id: "u250") { found } }`, {}, admin);
    expect(erased.data!.deleteUser.found).toBe(true);
    expect(await redis.exists(`recoder:v${canary}:user:u250`, `recoder:v${control}:user:u250`)).toBe(0);
  });

  it('refuses what does not fit: a second experiment, traffic outside (0, 1), an ACTIVE version as canary', async () => {
    expect(firstErrorCode(await gql(api, START, { v: canary, t: 0.2 }, admin))).toBe('BAD_USER_INPUT');
    const outside = await gql(api, START, { v: control, t: 1 }, admin);
    expect(firstErrorCode(outside)).toBe('BAD_USER_INPUT');
    expect(outside.errors![0].message).toContain('traffic');
    expect(firstErrorCode(await gql(api, START, { v: 999, t: 0.5 }, admin))).toBe('NOT_FOUND');
    // without the admin scope
    expect(firstErrorCode(await gql(api, ABORT))).toBe('UNAUTHENTICATED');
  });

  it('abort returns every user to the ACTIVE version, in both processes', async () => {
    const aborted = (await gql(api, ABORT, {}, admin)).data!.abortExperiment;
    expect(aborted).toMatchObject({ status: 'ABORTED', endedReason: 'aborted' });
    expect(await statusOf(canary)).toBe('READY');
    expect(await statusOf(control)).toBe('ACTIVE');
    expect(await redis.exists('recoder:canary')).toBe(0);
    expect((await gql(api, EXPERIMENT, {}, admin)).data!.experiment).toBeNull();
    expect((await gql(api, EXPERIMENT, { id: aborted.id }, admin)).data!.experiment.status).toBe('ABORTED');
    await untilBothServe(() => control);
    expect(firstErrorCode(await gql(api, ABORT, {}, admin))).toBe('NOT_FOUND');
    expect(firstErrorCode(await gql(api, PROMOTE, {}, admin))).toBe('NOT_FOUND');
  });

  it('a new experiment draws its arms afresh; promote makes the canary ACTIVE and retires the old one as retention says', async () => {
    const started = (await gql(api, START, { v: canary, t: 0.5 }, admin)).data!.activateModel;
    expect(started).toEqual({ version: canary, status: 'CANARY' });
    const experiment = (await gql(api, EXPERIMENT, {}, admin)).data!.experiment;
    const [before, now] = await Promise.all([experiment.id - 1, experiment.id].map((id: number) => saltOf(id)));
    expect(now).not.toBe(before);
    const arm = (u: string) => (inCanaryArm(now, 0.5, u) ? canary : control);
    const moved = USERS.filter((u) => inCanaryArm(before, 0.5, u) !== inCanaryArm(now, 0.5, u));
    expect(moved.length).toBeGreaterThan(10);
    await untilBothServe(arm);

    const promoted = (await gql(api, PROMOTE, {}, admin)).data!.promoteExperiment;
    expect(promoted).toMatchObject({ status: 'PROMOTED', canaryVersion: canary });
    expect(await statusOf(canary)).toBe('ACTIVE');
    // KEEP_VERSIONS 2: the previous version stays READY, with its keys, for a rollback
    expect(await statusOf(control)).toBe('READY');
    expect(await redis.exists(`recoder:v${control}:meta`)).toBe(1);
    expect(Number(await redis.get('recoder:active'))).toBe(canary);
    expect(await redis.exists('recoder:canary')).toBe(0);
    await untilBothServe(() => canary);

    // one more version, trained as a canary and promoted: the oldest is retired and its keys go
    const third = (await trainToCompletion(api, { ...QUICK, seed: 6, canary: 0.3 })).version;
    await gql(api, PROMOTE, {}, admin);
    expect(await statusOf(third)).toBe('ACTIVE');
    expect(await statusOf(canary)).toBe('READY');
    expect(await statusOf(control)).toBe('RETIRED');
    expect(await scanKeys(redis, `recoder:v${control}:*`)).toHaveLength(0);
  });

  it('a rollback during an experiment ends it: everyone gets the version asked for', async () => {
    const previous = (await gql(api, EXPERIMENT, {}, admin)).data!.experiment;
    expect(previous).toBeNull();
    const fourth = (await trainToCompletion(api, { ...QUICK, seed: 7, canary: 0.5 })).version;
    expect(await statusOf(fourth)).toBe('CANARY');
    const rolledBack = await gql(api, `mutation { activateModel(version: ${canary}) { version status } }`, {}, admin);
    expect(rolledBack.data!.activateModel).toEqual({ version: canary, status: 'ACTIVE' });
    expect(await statusOf(fourth)).toBe('READY');
    const ended = (await db.query('SELECT outcome, ended_reason FROM experiments ORDER BY id DESC LIMIT 1')).rows[0];
    expect(ended).toEqual({ outcome: 'ABORTED', ended_reason: `v${canary} was activated` });
    await untilBothServe(() => canary);
  });
});

/** A port nothing listens on now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
