import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { admin } from './test-env';
import { TestStack } from './test-stack';
import { trainToCompletion, waitForServedVersion } from './train-through-api';

// a catalogue of 1,500 items above a lowered SAMPLED_TRAINING_MIN_ITEMS: retrains take the large
// catalogue's path (sampled negatives, the narrower default width) through the real worker
const RECS = `query R($u: ID!, $limit: Int) { recommendations(userId: $u, limit: $limit) { source modelVersion items { item { id } } } }`;
const VERSION = `query V($v: Int!) { model(version: $v) { config } }`;

describe('sampled training (e2e): a catalogue past SAMPLED_TRAINING_MIN_ITEMS trains sampled and is served', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  const data = generateSynthetic({ users: 500, items: 1500, seed: 31, perUser: 25, clusters: 10 });

  const configOf = async (version: number) =>
    (await gql(api, VERSION, { v: version }, admin)).data!.model.config as Record<string, unknown>;

  beforeAll(async () => {
    Object.assign(process.env, { SAMPLED_TRAINING_MIN_ITEMS: '1000' });
    stack = await TestStack.start({ data });
    api = stack.api;
  });
  afterAll(async () => {
    delete process.env.SAMPLED_TRAINING_MIN_ITEMS;
    await stack.close();
  });

  it('trains the default shape with sampled negatives at the large-catalogue width, and serves its answers', async () => {
    const { version, status } = await trainToCompletion(api, { epochs: 4, seed: 2, patience: 0, itemTerm: false });
    expect(status).toBe('ACTIVE');
    const config = await configOf(version);
    expect(config).toMatchObject({ sampledNegatives: 1000, embeddingDim: 256, hidden: [] });

    await waitForServedVersion(api, version);
    const res = await gql(api, RECS, { u: 'u7', limit: 20 });
    expect(res.errors).toBeUndefined();
    const answer = res.data!.recommendations as { source: string; modelVersion: number; items: unknown[] };
    expect(answer).toMatchObject({ source: 'EMBEDDING', modelVersion: version });
    expect(answer.items).toHaveLength(20);
  });

  it('keeps the full output layer for a shape with hidden layers, which sampled training does not take', async () => {
    const { version } = await trainToCompletion(api, {
      epochs: 2,
      seed: 2,
      patience: 0,
      hidden: [32],
      embeddingDim: 16,
      itemTerm: false,
    });
    expect(await configOf(version)).toMatchObject({ sampledNegatives: 0, embeddingDim: 16, hidden: [32] });
  });
});
