import { getEnv } from '@app/config';
import { CatalogueItem, ErasureRepository, FeedbackTypeRepository, InteractionRepository } from '@app/database';
import { EmbeddingStoreRepository, TopItems } from '@app/embedding-store';
import { NO_DECAY } from '@app/feedback';
import { DaeModel, initBackend, initParams, ItemTerm, ScoringPool, serializeModel } from '@app/model';
import { createRng } from '@app/random';
import { flushTestRedis, testDatabase, testRedis, truncateStore } from '@app/testing';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../../../../test/test-env';
import { FeedbackRulesService } from '../../feedback/feedback-rules.service';
import { UserFeedbackReader } from '../../feedback/user-feedback.reader';
import { Catalogue } from '../catalogue.service';
import { LiveModel } from '../live-model.service';
import { CandidateRules } from './candidates';
import { Ask, AskOptions, Subject } from './source';
import { UserSubject, UserSubjects } from './user-subject';

/** The sources' specs: a small served model, a catalogue of its items, asks as the service makes them, brute-force rankings. */

export const FIXTURE_ITEMS = 40;
const ITEM_IDS = Array.from({ length: FIXTURE_ITEMS }, (_, i) => `i${i}`);

type LiveModelFields = Partial<Pick<LiveModel, 'version' | 'topItems' | 'similarItems' | 'watermark'>>;

/**
 * A model of FIXTURE_ITEMS items (`i0`...) with an item term large enough to reorder its
 * rankings, so that a path that forgets a user's history gives other items; scored on the calling
 * thread (a pool of no threads), as the API's threads score it.
 */
export async function fixtureLiveModel(fields: LiveModelFields = {}): Promise<LiveModel> {
  await initBackend();
  const config = {
    items: FIXTURE_ITEMS,
    hidden: [16],
    embeddingDim: 6,
    activation: 'tanh' as const,
    loss: 'multinomial' as const,
    input: 'binary' as const,
  };
  const rng = createRng(11);
  const perRow = 8;
  const indptr = Int32Array.from({ length: FIXTURE_ITEMS + 1 }, (_, i) => i * perRow);
  const indices = Int32Array.from(
    { length: FIXTURE_ITEMS * perRow },
    (_, q) => ((q % perRow) * 5 + Math.floor(q / perRow)) % FIXTURE_ITEMS,
  );
  for (let i = 0; i < FIXTURE_ITEMS; i++) indices.subarray(i * perRow, (i + 1) * perRow).sort();
  const values = Float32Array.from(indices, () => (rng.next() - 0.5) * 4);
  const term = new ItemTerm(
    { rows: FIXTURE_ITEMS, cols: FIXTURE_ITEMS, indptr, indices, values },
    { lambda: 1, dropout: 0, topK: perRow, alpha: 1 },
  );
  const model = new DaeModel(config, initParams(config, 5), term);
  const scoring = await ScoringPool.start(model, serializeModel(model, { itemIds: ITEM_IDS }), { threads: 0 });
  return {
    version: 1,
    model,
    scoring,
    itemIds: ITEM_IDS,
    itemIndex: new Map(ITEM_IDS.map((id, i) => [id, i])),
    watermark: null,
    input: NO_DECAY,
    topItems: 10,
    similarItems: 10,
    indexDir: null,
    ...fields,
  };
}

export async function closeLiveModel(live: LiveModel): Promise<void> {
  await live.scoring.close();
  live.model.dispose();
}

/** The model's items, all active, `i0` the most popular; `changes` by id. */
export function fixtureCatalogue(changes: Record<string, Partial<CatalogueItem>> = {}): Catalogue {
  const all = ITEM_IDS.map((id, i) => ({
    id,
    attributes: { even: i % 2 === 0 },
    active: true,
    interactions: FIXTURE_ITEMS - i,
    ...changes[id],
  }));
  all.sort((a, b) => b.interactions - a.interactions);
  return {
    byId: new Map(all.map((i) => [i.id, i])),
    popular: all.filter((i) => i.active),
    loadedAt: 0,
    fingerprint: null,
    checkedAt: 0,
  };
}

/** An ask as the service makes it. */
export function fixtureAsk<S extends Subject>(
  live: LiveModel | null,
  catalogue: Catalogue,
  subject: S,
  options: Partial<AskOptions> = {},
): Ask<S> {
  return {
    answerId: 'answer-1',
    subject,
    limit: options.limit ?? 5,
    requestedVersion: null,
    preview: false,
    live,
    candidates: new CandidateRules().of(live, catalogue, options.filter, options.exclude),
  };
}

/** Brute force: a vector's full decode, the item term's from `history`, every item but `exclude` by score, a full sort. */
export function bruteForce(
  live: LiveModel,
  vector: Float32Array,
  history: readonly number[] | null,
  exclude: readonly number[] = [],
): { id: string; score: number }[] {
  const scores = live.model.decode(vector, 1, undefined, 'users', history ? [history] : undefined);
  return Array.from(scores, (score, i) => ({ id: live.itemIds[i], score, i }))
    .filter(({ i }) => !exclude.includes(i))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map(({ id, score }) => ({ id, score }));
}

/** The ids and scores of an answer's items. */
export const idsOf = (items: readonly { item: { id: string } }[]) => items.map((i) => i.item.id);

/**
 * The tests' own database (the model's items in it, no users) and Redis db, emptied, with the
 * repositories the sources use.
 */
export async function fixtureStores() {
  const { db, ds } = await testDatabase(TEST_DATABASE_URL);
  const redis = testRedis(TEST_REDIS_URL);
  await truncateStore(db);
  await flushTestRedis(redis);
  await db.query(`INSERT INTO items (external_id) SELECT 'i' || n FROM generate_series(0, $1::int - 1) n`, [
    FIXTURE_ITEMS,
  ]);
  const store = new EmbeddingStoreRepository(redis);
  const interactions = new InteractionRepository(ds);
  const rules = new FeedbackRulesService(new FeedbackTypeRepository(ds), redis, getEnv());
  const feedback = new UserFeedbackReader(interactions, rules);
  return {
    ds,
    db,
    redis,
    store,
    interactions,
    erasures: new ErasureRepository(ds, getEnv()),
    rules,
    feedback,
    users: new UserSubjects(store, feedback),
    /** The user's interactions with these items, at `at`, of this type (an undeclared one: POSITIVE). */
    async record(userId: string, itemIds: readonly string[], at = new Date(), type = 'view'): Promise<void> {
      await db.query(`INSERT INTO users (external_id) VALUES ($1) ON CONFLICT DO NOTHING`, [userId]);
      await db.query(
        `INSERT INTO interactions (user_id, item_id, type, occurred_at)
         SELECT u.id, i.id, $4, $3 FROM users u, items i WHERE u.external_id = $1 AND i.external_id = ANY($2)`,
        [userId, itemIds, at, type],
      );
    },
    /** A user's embedding as a training publishes it: the vector, the items it came from, a top list if given. */
    publish(
      version: number,
      userId: string,
      vector: Float32Array,
      seen: readonly number[],
      top?: TopItems,
    ): Promise<void> {
      return store.writeVectors(version, 'user', {
        ids: [userId],
        dim: vector.length,
        vectors: vector,
        seen: [seen],
        tops: top && [top],
      });
    },
    async close(): Promise<void> {
      await ds.destroy();
      await db.end();
      redis.disconnect();
    },
  };
}

/** The first `k` of a brute-force ranking as a top list (model indices and scores). */
export function topOf(live: LiveModel, ranked: readonly { id: string; score: number }[], k: number): TopItems {
  return {
    items: ranked.slice(0, k).map((x) => live.itemIndex.get(x.id)!),
    scores: ranked.slice(0, k).map((x) => x.score),
  };
}

/** A user's items as model indices. */
export const indicesIn = (live: LiveModel, ids: readonly string[]) => ids.map((id) => live.itemIndex.get(id)!);

export type FixtureStores = Awaited<ReturnType<typeof fixtureStores>>;

/**
 * A spec file's served model (fixtureLiveModel with `fields`) and stores (fixtureStores), made
 * before its tests and closed after them: the hooks go to the calling describe block. The
 * helpers above, bound to that model and the default catalogue.
 */
export function servedModelFixture(fields: LiveModelFields = {}): ServedModelFixture {
  const fixture = new ServedModelFixture();
  beforeAll(async () => {
    [fixture.live, fixture.stores] = await Promise.all([fixtureLiveModel(fields), fixtureStores()]);
  });
  afterAll(async () => {
    await closeLiveModel(fixture.live);
    await fixture.stores.close();
  });
  return fixture;
}

export class ServedModelFixture {
  live!: LiveModel;
  stores!: FixtureStores;
  readonly catalogue = fixtureCatalogue();

  ask<S extends Subject>(subject: S, options: Partial<AskOptions> = {}): Ask<S> {
    return fixtureAsk(this.live, this.catalogue, subject, options);
  }

  /** An ask for a user as the service makes it, the user read from the stores; `live` another model, or none. */
  async askForUser(
    userId: string,
    excludeSeen: boolean,
    options: Partial<AskOptions> = {},
    live: LiveModel | null = this.live,
  ): Promise<Ask<UserSubject>> {
    return fixtureAsk(live, this.catalogue, await this.stores.users.of(live, userId, excludeSeen), options);
  }

  bruteForce(vector: Float32Array, history: readonly number[] | null, exclude: readonly number[] = []) {
    return bruteForce(this.live, vector, history, exclude);
  }

  topOf(ranked: readonly { id: string; score: number }[], k: number): TopItems {
    return topOf(this.live, ranked, k);
  }

  indicesIn(ids: readonly string[]): number[] {
    return indicesIn(this.live, ids);
  }
}
