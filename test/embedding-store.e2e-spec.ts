import type { RedisClient } from '@app/redis';
import { EmbeddingStoreRepository, erasedKey, userKey } from '@app/embedding-store';
import { testRedis } from '@app/testing';
import { TEST_REDIS_URL } from './test-env';

// the write-through of a fold-in against the stale flag, on the tests' own Redis db
describe('embedding store: fold-in write-through (Redis)', () => {
  const VERSION = 9001;
  let redis: RedisClient;
  let store: EmbeddingStoreRepository;
  const vec = (x: number) => Float32Array.from([x, x, x]);
  const top = { items: Uint32Array.from([4, 2]), scores: Float32Array.from([0.5, 0.25]) };
  const ID_HASH = Buffer.from('a keyed hash of the id');

  beforeAll(() => {
    redis = testRedis(TEST_REDIS_URL);
    store = new EmbeddingStoreRepository(redis);
  });
  beforeEach(() => store.deleteVersion(VERSION));
  afterAll(async () => {
    await store.deleteVersion(VERSION);
    redis.disconnect();
  });

  it('clears the flag it saw, and writes the vector, asOf, top items and the items it was encoded from', async () => {
    await store.writeVectors(VERSION, 'user', { ids: ['a'], dim: 3, vectors: vec(1), seen: [[7]] });
    expect((await store.readUser(VERSION, 'a'))!.seen).toEqual([7]);
    await store.markUsersStale(VERSION, ['a']);
    const before = (await store.readUser(VERSION, 'a'))!;
    expect(before.stale).toBe(true);
    expect(
      await store.writeUser(VERSION, 'a', ID_HASH, {
        vector: vec(2),
        asOf: new Date(1000),
        top,
        seenMark: before.staleMark,
        seen: [7, 9],
      }),
    ).toBe(true);
    const after = (await store.readUser(VERSION, 'a'))!;
    expect(after).toMatchObject({ stale: false, asOf: new Date(1000), seen: [7, 9] });
    expect(Array.from(after.vector)).toEqual([2, 2, 2]);
    expect(Array.from(after.top!.items)).toEqual([4, 2]);
  });

  it('writes nothing when the user was flagged again after the fold-in read its history', async () => {
    await store.writeVectors(VERSION, 'user', { ids: ['b'], dim: 3, vectors: vec(1) });
    await store.markUsersStale(VERSION, ['b']);
    const seen = (await store.readUser(VERSION, 'b'))!.staleMark;
    // an interaction recorded while the fold-in was computing
    await store.markUsersStale(VERSION, ['b']);
    expect(
      await store.writeUser(VERSION, 'b', ID_HASH, {
        vector: vec(2),
        asOf: new Date(1000),
        top,
        seenMark: seen,
        seen: [3],
      }),
    ).toBe(false);
    const after = (await store.readUser(VERSION, 'b'))!;
    expect(after.stale).toBe(true);
    expect(Array.from(after.vector)).toEqual([1, 1, 1]);
    expect(after.top).toBeNull();
    expect(after.seen).toBeNull();
  });

  it('flags only users that have an embedding, and never creates a key without a vector', async () => {
    await store.markUsersStale(VERSION, ['nobody']);
    expect(await redis.exists(userKey(VERSION, 'nobody'))).toBe(0);
    await store.writeTop(VERSION, 'nobody', top);
    expect(await redis.exists(userKey(VERSION, 'nobody'))).toBe(0);
  });

  it('writes no fold-in back for a user just erased, whose hash the erasure removed', async () => {
    const erased = Buffer.from('hash of an erased id');
    await store.holdErasure('c', erased);
    try {
      // a fold-in that read the history before the erasure, writing after it: a new user's, or a flagged one's
      expect(
        await store.writeUser(VERSION, 'c', erased, { vector: vec(2), asOf: null, top, seenMark: null, seen: [1] }),
      ).toBe(false);
      expect(await redis.exists(userKey(VERSION, 'c'))).toBe(0);
      expect(await redis.ttl(erasedKey('c', erased))).toBeGreaterThan(0);
      // anyone else's write goes through
      expect(
        await store.writeUser(VERSION, 'd', ID_HASH, { vector: vec(2), asOf: null, top, seenMark: null, seen: [1] }),
      ).toBe(true);
    } finally {
      await redis.del(erasedKey('c', erased));
    }
  });
});
