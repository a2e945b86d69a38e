import Redis from 'ioredis';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { servedModelFixture } from './sources.fixture';
import { UserSubjects } from './user-subject';

describe(`${UserSubjects.name} (Redis, Postgres)`, () => {
  const fx = servedModelFixture({ watermark: new Date('2024-01-02T00:00:00Z') });
  const vector = Float32Array.from([1, 2, 3, 4, 5, 6]);

  beforeAll(async () => {
    await fx.stores.publish(fx.live.version, 'u1', vector, [1, 2]);
    await fx.stores.publish(fx.live.version, 'u2', vector, [3]);
    await fx.stores.record('u1', ['i1', 'i2'], new Date('2024-01-01T00:00:00Z'));
  });

  it('reads the cached embeddings and feedback states of users asked for together in one round trip', async () => {
    const reads = jest.spyOn(fx.stores.store, 'readUserStates');
    const users = fx.stores.users;
    const [u1, u2, none, state] = await Promise.all([
      users.of(fx.live, 'u1', true),
      users.of(fx.live, 'u2', true),
      users.of(fx.live, 'nobody', true),
      // what a request's hidden items read of the same user, in the same tick
      users.stateOf(fx.live, 'u1'),
    ]);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(reads.mock.calls[0]).toEqual([fx.live.version, ['u1', 'u2', 'nobody']]);
    expect(state.user).not.toBeNull();
    expect(Array.from(u1.cached!.vector)).toEqual(Array.from(vector));
    expect([u1.current?.seen, u2.current?.seen, none.cached]).toEqual([[1, 2], [3], null]);
    reads.mockRestore();
  });

  it('reads the history only when the answer needs it, once, and says whether the cached embedding answers', async () => {
    const history = jest.spyOn(fx.stores.interactions, 'eventGroupsOf');
    // current, and it knows its seen items: no history
    const current = await fx.stores.users.of(fx.live, 'u1', true);
    expect(await current.neededHistory()).toBeNull();
    expect(await current.servesCached(fx.live)).toBe(true);
    expect(history).not.toHaveBeenCalled();
    // flagged stale, with a history newer than the model: the history is read once, and the embedding does not answer
    await fx.stores.record('u1', ['i9']);
    await fx.stores.store.markUsersStale(fx.live.version, ['u1']);
    const stale = await fx.stores.users.of(fx.live, 'u1', true);
    expect(await stale.servesCached(fx.live)).toBe(false);
    expect((await stale.neededHistory())!.items.sort()).toEqual(['i1', 'i2', 'i9']);
    expect(await stale.excludedIds()).toHaveLength(3);
    expect(history).toHaveBeenCalledTimes(1);
    // seen items kept: nothing to leave out
    expect(await (await fx.stores.users.of(fx.live, 'u1', false)).excludedIds()).toEqual([]);
    history.mockRestore();
  });

  it('has no cached embedding while Redis is down, so the sources fold the user in', async () => {
    // nothing listens on port 1: every read fails at once
    const down = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    down.on('error', () => undefined);
    const subject = await new UserSubjects(new EmbeddingStoreRepository(down), fx.stores.feedback).of(
      fx.live,
      'u2',
      true,
    );
    expect(subject.cached).toBeNull();
    expect(await subject.servesCached(fx.live)).toBe(false);
    down.disconnect();
  });
});
