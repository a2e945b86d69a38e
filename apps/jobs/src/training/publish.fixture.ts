import type { RedisClient } from '@app/redis';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { buildInteractionMatrix, CsrMatrix, DaeModel, initBackend, initParams } from '@app/model';
import { generateSynthetic } from '@app/synthetic';
import { testRedis } from '@app/testing';
import { TEST_REDIS_URL } from '../../../../test/test-env';

/** What the publish tests start from: 300 synthetic users' interactions and an untrained small model of them. */
export function untrainedModelOn(options: { items: number; dataSeed: number; modelSeed: number }): {
  userIds: string[];
  itemIds: string[];
  matrix: CsrMatrix;
  model: DaeModel;
} {
  const data = generateSynthetic({ users: 300, items: options.items, seed: options.dataSeed, perUser: 15 });
  const userIds = Array.from({ length: data.users }, (_, u) => `u${u}`);
  const itemIds = Array.from({ length: data.items }, (_, i) => `i${i}`);
  const { matrix } = buildInteractionMatrix({ user: data.user, item: data.item, userIds, itemIds });
  const config = {
    items: data.items,
    hidden: [32],
    embeddingDim: 8,
    activation: 'tanh' as const,
    loss: 'multinomial' as const,
    input: 'binary' as const,
  };
  return { userIds, itemIds, matrix, model: new DaeModel(config, initParams(config, options.modelSeed)) };
}

/** A store on the test Redis for the describe block it is called in; the versions it publishes are deleted after. */
export function storeForVersions(versions: readonly number[]): { readonly store: EmbeddingStoreRepository } {
  let redis: RedisClient;
  const holder = {} as { store: EmbeddingStoreRepository };
  beforeAll(async () => {
    await initBackend();
    redis = testRedis(TEST_REDIS_URL);
    holder.store = new EmbeddingStoreRepository(redis);
  });
  afterAll(async () => {
    for (const v of versions) await holder.store.deleteVersion(v);
    redis.disconnect();
  });
  return holder;
}
