import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { createTestApiApp } from './create-test-app';
import { createTestJobsApp } from './create-test-jobs-app';
import { LiveModelService } from '../apps/api/src/recommendations/live-model.service';
import { TestStack } from './test-stack';
import { trainToCompletion, waitForServedVersion } from './train-through-api';

// a catalogue of 3,000 items, above the lowered ANN_MIN_ITEMS: the version gets an item index. Large
// enough that a row's candidates (k, its exclusions and the over-fetch) stay under the share of the
// catalogue past which the model scores the whole row instead (MAX_INDEX_SHARE): answers go through
// the index. No item term: by default no catalogue with an index has one (ITEM_TERM_MAX_ITEMS 10,000);
// its items through the index are libs/model's specs' to check.
const ITEMS = 3000;
const CONFIG = { epochs: 8, embeddingDim: 32, hidden: [64], seed: 5, patience: 0, batchSize: 100, itemTerm: false };
const K = 20;
const SESSION = `query S($items: [ID!]!, $limit: Int, $filter: ItemFilter) { recommendationsForItems(itemIds: $items, limit: $limit, filter: $filter) { modelVersion items { item { id } } } }`;
const RECS = `query R($u: ID!, $limit: Int) { recommendations(userId: $u, limit: $limit) { source modelVersion items { item { id } } } }`;
const SIMILAR = `query S($item: ID!, $limit: Int) { similarItems(itemId: $item, limit: $limit) { source modelVersion items { item { id } } } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;

/** Every answer the test compares: sessions, a user who just acted (a fold-in), similar items (precomputed and compared live). */
type Answers = Record<string, string[]>;

describe('approximate item index (e2e): stored with a large catalogue version, loaded by the API, answers as the exact model does', () => {
  const data = generateSynthetic({ users: 600, items: ITEMS, seed: 35, perUser: 25, clusters: 12 });
  const cacheDir = mkdtempSync(join(tmpdir(), 'recoder-ann-e2e-'));
  let stack: TestStack;
  let api: NestFastifyApplication;
  let jobs: NestFastifyApplication;

  const ids = async (
    query: string,
    variables: Record<string, unknown>,
  ): Promise<{ version: number; ids: string[] }> => {
    const res = await gql(api, query, variables);
    expect(res.errors).toBeUndefined();
    const answer = Object.values(res.data!)[0] as { modelVersion: number; items: { item: { id: string } }[] };
    return { version: answer.modelVersion, ids: answer.items.map((i) => i.item.id) };
  };
  const indexFiles = async (version: number) =>
    (
      await stack.db.query(
        `SELECT file, count(*)::int AS chunks FROM model_index_chunks WHERE version = $1 GROUP BY file ORDER BY file`,
        [version],
      )
    ).rows as { file: string; chunks: number }[];

  /** The same questions of whichever version the API serves; `tag` keeps the acting users apart between versions. */
  async function answers(version: number, tag: string): Promise<Answers> {
    const out: Answers = {};
    const check = (answer: { version: number; ids: string[] }) => {
      expect(answer.version).toBe(version);
      expect(answer.ids).toHaveLength(K);
      return answer.ids;
    };
    for (let s = 0; s < 8; s++) {
      const items = [0, 1, 2, 3].map((j) => `i${(s * 37 + j * 701) % ITEMS}`);
      out[`session ${s}`] = check(await ids(SESSION, { items, limit: K }));
    }
    // a user who just acted is folded in on request (a decode), not read from the published list
    for (let u = 0; u < 4; u++) {
      const user = `u${u}`;
      const acted = `${user}-${tag}`;
      const history = data.user.reduce<string[]>((acc, x, n) => (x === u ? [...acc, `i${data.item[n]}`] : acc), []);
      const input = [...history, `i${(u * 53) % ITEMS}`].map((itemId) => ({ userId: acted, itemId }));
      expect((await gql(api, RECORD, { input })).data!.recordInteractions.accepted).toBe(input.length);
      out[`fold-in ${u}`] = check(await ids(RECS, { u: acted, limit: K }));
      // a published top list, ranked at publish (through the index when the version has one)
      out[`published ${u}`] = check(await ids(RECS, { u: user, limit: K }));
    }
    // the first items by popularity have precomputed lists (ranked at publish); the rest are compared on request
    for (const item of ['i0', 'i1', 'i2', 'i3', 'i2990', 'i2995', 'i2997', 'i2999'])
      out[`similar ${item}`] = check(await ids(SIMILAR, { item, limit: K }));
    return out;
  }

  const recall = (approximate: string[], exact: string[]) =>
    approximate.filter((id) => exact.includes(id)).length / exact.length;

  let indexed: number;
  let withIndex: Answers;
  /** The indexed version's anomaly scores by user: its partition function sampled from the item clusters. */
  let sampledAnomalies: Map<string, number>;
  const anomaliesOf = async (v: number) =>
    new Map(
      (await stack.db.query(`SELECT user_id, score FROM user_anomalies WHERE version = $1`, [v])).rows.map(
        (row: { user_id: string; score: number }) => [row.user_id, Number(row.score)],
      ),
    );

  beforeAll(async () => {
    // PRECOMPUTED_SIMILAR_ITEMS below the catalogue: some similar items are compared live, through the API's index
    Object.assign(process.env, {
      ANN_MIN_ITEMS: '1000',
      // published top lists of 20: ranked through the index too (at 100, the candidates would exceed its share)
      CACHED_TOP_ITEMS: '20',
      ANN_CACHE_DIR: cacheDir,
      PRECOMPUTED_SIMILAR_ITEMS: '300',
      SCORING_THREADS: '1',
      KEEP_VERSIONS: '1',
      // answers are compared across versions: nothing shown is hidden in between
      EXPOSURE_MAX_SHOWS: '0',
    });
    stack = await TestStack.start({ data, worker: false });
    api = stack.api;
    jobs = await createTestJobsApp();
  });
  afterAll(async () => {
    await jobs.close();
    await stack.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('a training job stores the index with its version; the API copies it into ANN_CACHE_DIR and answers through it', async () => {
    const { version } = await trainToCompletion(api, CONFIG);
    indexed = version;
    // what ItemIndex.save wrote: its metadata and the item clusters for scores and for cosines
    const files = (await indexFiles(version)).map((f) => f.file);
    expect(files.sort()).toEqual(['cosine-clusters.bin', 'item-index.json', 'score-clusters.bin']);
    const timings = (await stack.db.query(`SELECT timings FROM model_versions WHERE version = $1`, [version])).rows[0]
      .timings as Record<string, number>;
    expect(timings.index).toBeGreaterThan(0);
    sampledAnomalies = await anomaliesOf(version);
    expect(sampledAnomalies.size).toBe(600);
    sampledAnomalies.forEach((score) => expect(score).toBeGreaterThan(0));

    await waitForServedVersion(api, version, 60);
    expect(readdirSync(join(cacheDir, `v${version}`)).sort()).toEqual([...files, 'stored-index.json'].sort());
    // nothing half-copied is left beside it
    expect(readdirSync(cacheDir)).toEqual([`v${version}`]);
    withIndex = await answers(version, 'indexed');
  });

  it('a filter that narrows the candidates takes the exact full-row path and keeps to the filter', async () => {
    const allowed = Array.from({ length: 40 }, (_, j) => `i${j * 15}`);
    const answer = await ids(SESSION, { items: ['i1', 'i2', 'i3'], limit: K, filter: { includeIds: allowed } });
    expect(answer.ids).toHaveLength(K);
    expect(answer.ids.every((id) => allowed.includes(id))).toBe(true);
  });

  it('the same model without an index (catalogue below the threshold) answers as before; their items agree (recall@20 >= 0.9), and retiring the indexed version deletes its index', async () => {
    // the same training on the same rows (the users who acted above go) with the threshold above the catalogue: the exact model, no index
    await stack.db.query(`DELETE FROM users WHERE external_id LIKE '%-indexed'`);
    await jobs.close();
    jobs = await createTestJobsApp({ ANN_MIN_ITEMS: '100000' });
    const { version } = await trainToCompletion(api, CONFIG);
    expect(version).toBeGreaterThan(indexed);
    // the same weights: the comparison is of the index alone
    const hash = async (v: number) =>
      (
        await stack.db.query(
          `SELECT md5(string_agg(data, ''::bytea ORDER BY seq)) AS hash FROM model_weight_chunks WHERE version = $1`,
          [v],
        )
      ).rows[0].hash as string;
    expect(await hash(version)).toBe(await hash(indexed));
    // the same users' anomaly scores from every item's score: the sampled ones rank them alike
    const exactAnomalies = await anomaliesOf(version);
    const users = [...exactAnomalies.keys()];
    expect(
      spearman(
        users.map((u) => exactAnomalies.get(u)!),
        users.map((u) => sampledAnomalies.get(u)!),
      ),
    ).toBeGreaterThan(0.9);
    expect(await indexFiles(version)).toEqual([]);

    // KEEP_VERSIONS 1: the indexed version is retired, and its index rows go with it
    expect(
      (await stack.db.query(`SELECT status FROM model_versions WHERE version = $1`, [indexed])).rows[0].status,
    ).toBe('RETIRED');
    expect(await indexFiles(indexed)).toEqual([]);

    await waitForServedVersion(api, version, 60);
    const exact = await answers(version, 'exact');
    const recalls = Object.keys(exact).map((q) => ({ q, recall: recall(withIndex[q], exact[q]) }));
    const mean = (kind: string) => {
      const of = recalls.filter((r) => r.q.startsWith(kind)).map((r) => r.recall);
      return of.reduce((a, b) => a + b, 0) / of.length;
    };
    for (const kind of ['session', 'fold-in', 'published', 'similar']) expect(mean(kind)).toBeGreaterThanOrEqual(0.9);
    expect(Math.min(...recalls.map((r) => r.recall))).toBeGreaterThanOrEqual(0.75);
  });

  it('an API started later removes the copy of a version retired meanwhile, and serves the version without an index from no copy', async () => {
    const first = api;
    api = await createTestApiApp();
    try {
      const active = (await stack.db.query(`SELECT version FROM model_versions WHERE status = 'ACTIVE'`)).rows[0]
        .version as number;
      await waitForServedVersion(api, active, 60);
      expect(existsSync(join(cacheDir, `v${indexed}`))).toBe(false);
      expect(existsSync(join(cacheDir, `v${active}`))).toBe(false);
      const answer = await ids(SESSION, { items: ['i5', 'i6'], limit: K });
      expect(answer).toMatchObject({ version: active });
      expect(answer.ids).toHaveLength(K);
    } finally {
      await api.close();
      api = first;
    }
  });

  it('the scoring threads open the stored index: one that is not an index fails the load, and the model in memory keeps serving', async () => {
    const active = (await stack.db.query(`SELECT version FROM model_versions WHERE status = 'ACTIVE'`)).rows[0]
      .version as number;
    await stack.db.query(
      `INSERT INTO model_index_chunks (version, file, seq, data) VALUES ($1, 'item-index.json', 0, 'not an index'::bytea)`,
      [active],
    );
    const other = await createTestApiApp({ ANN_CACHE_DIR: join(cacheDir, 'another') });
    try {
      await expect(other.get(LiveModelService).refresh()).rejects.toThrow(/JSON/);
      expect(other.get(LiveModelService).current()).toBeNull();
      // the API that loaded the version before the rows appeared answers on
      expect((await ids(SESSION, { items: ['i5'], limit: K })).version).toBe(active);
    } finally {
      await other.close();
    }
  });
});

/** Spearman's rank correlation of two equally long lists (no ties expected). */
function spearman(a: number[], b: number[]): number {
  const ranks = (x: number[]) => {
    const out = new Array<number>(x.length);
    x.map((v, i) => [v, i])
      .sort((p, q) => p[0] - q[0])
      .forEach(([, i], r) => (out[i] = r));
    return out;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const n = a.length;
  const d2 = ra.reduce((sum, r, i) => sum + (r - rb[i]) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}
