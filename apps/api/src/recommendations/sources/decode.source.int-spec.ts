import { EnvVars } from '@app/config';
import { createDataSource, InteractionRepository } from '@app/database';
import { decodeTopItems, userKey } from '@app/embedding-store';
import { TEST_DATABASE_URL } from '../../../../../test/test-env';
import { DecodeSource } from './decode.source';
import { idsOf, servedModelFixture } from './sources.fixture';
import { UserRanking } from './user-ranking';
import { UserFeedbackReader } from '../../feedback/user-feedback.reader';
import { UserSubjects } from './user-subject';

describe(`${DecodeSource.name} (Redis, Postgres)`, () => {
  // published a day after the history: the published embeddings include all of it
  const fx = servedModelFixture({ topItems: 10, watermark: new Date('2024-01-02T00:00:00Z') });
  let sut: DecodeSource;
  const vector = Float32Array.from([-0.5, 1, 0.75, -1, 0.5, 0.25]);
  const seenIds = ['i2', 'i9', 'i30'];
  const past = new Date('2024-01-01T00:00:00Z');

  beforeAll(() => {
    sut = new DecodeSource(new UserRanking(Object.assign(new EnvVars(), { CACHED_TOP_ITEMS: 10 })), fx.stores.store);
  });

  const liveUserKey = (userId: string) => userKey(fx.live.version, userId);
  /** The list written back, once the write-through (after the answer) has landed. */
  async function writtenTop(userId: string) {
    for (let i = 0; i < 50 && !(await fx.stores.redis.hexists(liveUserKey(userId), 'top')); i++)
      await new Promise((r) => setTimeout(r, 20));
    const blob = await fx.stores.redis.hgetBuffer(liveUserKey(userId), 'top');
    return blob && decodeTopItems(blob);
  }

  it('decodes a cached embedding without a list: its unseen items by the scores of its own history, and writes the list back', async () => {
    const seen = fx.indicesIn(seenIds);
    await fx.stores.record('u1', seenIds, past);
    await fx.stores.publish(fx.live.version, 'u1', vector, seen);
    const answer = (await sut.answer(await fx.askForUser('u1', true, { limit: 6 })))!;
    expect(answer.source).toBe('EMBEDDING');
    const want = fx.bruteForce(vector, seen, seen);
    expect(idsOf(answer.items)).toEqual(want.slice(0, 6).map((x) => x.id));
    answer.items.forEach((item, r) => expect(item.score).toBeCloseTo(want[r].score, 5));
    // the version's depth of the unseen ranking, for the next request's cached list
    const top = (await writtenTop('u1'))!;
    expect(top.items).toEqual(fx.topOf(want, 10).items);
  });

  it('ranks a narrowing filter over the full row, and keeps an existing list as it is', async () => {
    const seen = fx.indicesIn(seenIds);
    // a list unlike the decode's: whatever this answer ranks, the list stays
    const list = { items: [39, 38, 37], scores: [3, 2, 1] };
    await fx.stores.record('u2', seenIds, past);
    await fx.stores.publish(fx.live.version, 'u2', vector, seen, list);
    const answer = (await sut.answer(
      await fx.askForUser('u2', true, { limit: 5, filter: { attributes: { even: false } } }),
    ))!;
    const want = fx.bruteForce(vector, seen, seen).filter((x) => Number(x.id.slice(1)) % 2 === 1);
    expect(idsOf(answer.items)).toEqual(want.slice(0, 5).map((x) => x.id));
    await new Promise((r) => setTimeout(r, 100));
    expect(decodeTopItems((await fx.stores.redis.hgetBuffer(liveUserKey('u2'), 'top'))!)).toEqual(list);
  });

  it("keeps seen items in by the same scores when asked, and declines a history newer than the embedding (a fold-in's)", async () => {
    const seen = fx.indicesIn(seenIds);
    await fx.stores.record('u3', seenIds, past);
    await fx.stores.publish(fx.live.version, 'u3', vector, seen);
    const kept = (await sut.answer(await fx.askForUser('u3', false, { limit: 8 })))!;
    expect(idsOf(kept.items)).toEqual(
      fx
        .bruteForce(vector, seen)
        .slice(0, 8)
        .map((x) => x.id),
    );
    await fx.stores.record('u3', ['i11']);
    await fx.stores.store.markUsersStale(fx.live.version, ['u3']);
    expect(await sut.answer(await fx.askForUser('u3', true))).toBeNull();
    expect(await sut.answer(await fx.askForUser('nobody', true))).toBeNull();
  });

  it('serves a stale embedding while Postgres is down, leaving out the items it was encoded from', async () => {
    const seen = fx.indicesIn(seenIds);
    await fx.stores.publish(fx.live.version, 'u4', vector, seen);
    await fx.stores.store.markUsersStale(fx.live.version, ['u4']);
    // a repository whose connection is gone: the history cannot be read
    const gone = createDataSource(TEST_DATABASE_URL);
    await gone.initialize();
    await gone.destroy();
    const users = new UserSubjects(
      fx.stores.store,
      new UserFeedbackReader(new InteractionRepository(gone), fx.stores.rules),
    );
    const answer = (await sut.answer(fx.ask(await users.of(fx.live, 'u4', true), { limit: 6 })))!;
    expect(answer.source).toBe('EMBEDDING');
    expect(idsOf(answer.items)).toEqual(
      fx
        .bruteForce(vector, seen, seen)
        .slice(0, 6)
        .map((x) => x.id),
    );
  });
});
