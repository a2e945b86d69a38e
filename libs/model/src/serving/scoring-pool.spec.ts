import { readdirSync, readFileSync } from 'node:fs';
import { createRng } from '@app/random';
import { initBackend } from '../backend';
import { DaeModel } from '../dae.model';
import { initParams } from '../dae-config';
import { rowsFromItemLists } from '../interaction-matrix';
import { serializeModel } from '../serialize';
import { ScoringPool } from './scoring-pool';

describe(ScoringPool.name, () => {
  const config = {
    items: 300,
    hidden: [32],
    embeddingDim: 8,
    activation: 'tanh' as const,
    loss: 'multinomial' as const,
    input: 'binary' as const,
  };
  let model: DaeModel;
  let blob: Buffer;
  const rng = createRng(3);
  const embeddings = Array.from({ length: 150 }, () =>
    Float32Array.from({ length: config.embeddingDim }, () => rng.next() * 2 - 1),
  );

  beforeAll(async () => {
    await initBackend();
    model = new DaeModel(config, initParams(config, 6));
    blob = serializeModel(model, { itemIds: Array.from({ length: config.items }, (_, i) => `i${i}`) });
  });
  afterAll(() => model.dispose());

  // more concurrent requests than one batch holds, decodes and item comparisons interleaved
  it.each([0, 2])('answers each of many concurrent requests with its own row, with %i threads', async (threads) => {
    const pool = await ScoringPool.start(model, blob, { threads, maxBatch: 16 });
    try {
      const items = model.itemEmbeddings();
      // brute force: cosine of the item vectors, in float64
      const cosineRow = (a: number) =>
        Float32Array.from({ length: config.items }, (_, b) => {
          const va = items.vectors.subarray(a * items.dim, (a + 1) * items.dim);
          const vb = items.vectors.subarray(b * items.dim, (b + 1) * items.dim);
          const dot = va.reduce((sum, x, d) => sum + x * vb[d], 0);
          return dot / (Math.hypot(...va) * Math.hypot(...vb));
        });
      // a batched product may sum in another order than a single row's: equal to float32 rounding
      const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
      const sessions = [[1, 2, 3], [299], [5, 50, 150, 250]];
      const chosen = (u: number) => [u, 299 - u, (u * 7) % 300];
      const [decoded, similar, folded, picked] = await Promise.all([
        Promise.all(embeddings.map((e) => pool.decode(e))),
        Promise.all([0, 7, 299].map((i) => pool.similar(i))),
        Promise.all(sessions.map((items) => pool.foldIn(items))),
        Promise.all(embeddings.map((e, u) => pool.itemScores(e, chosen(u)))),
      ]);
      // chosen items' scores: those of the same embedding's decode on the same thread kind, to the bit
      picked.forEach((scores, u) =>
        expect(Array.from(scores)).toEqual(Array.from(model.scoresOf(embeddings[u], [chosen(u)])[0])),
      );
      picked.forEach((scores, u) =>
        expect(
          maxDiff(
            scores,
            Float32Array.from(chosen(u), (i) => decoded[u][i]),
          ),
        ).toBeLessThan(1e-4),
      );
      decoded.forEach((scores, u) => {
        expect(scores).toHaveLength(config.items);
        expect(maxDiff(scores, model.decode(embeddings[u], 1))).toBeLessThan(1e-4);
      });
      similar.forEach((scores, n) => expect(maxDiff(scores, cosineRow([0, 7, 299][n]))).toBeLessThan(1e-5));
      folded.forEach((scores, n) =>
        expect(maxDiff(scores, model.scores(rowsFromItemLists(config.items, [sessions[n]])))).toBeLessThan(1e-4),
      );
    } finally {
      await pool.close();
    }
  });

  // ranked in the scoring thread: the same items as a full sort of the row the pool returns whole
  it.each([0, 2])(
    'ranks rows where they are scored, exclusions left out, beside full rows of the same batch, with %i threads',
    async (threads) => {
      const pool = await ScoringPool.start(model, blob, { threads, maxBatch: 16 });
      const bySort = (scores: Float32Array, k: number, exclude: number[]) =>
        Array.from(scores.keys())
          .filter((i) => !exclude.includes(i))
          .sort((a, b) => scores[b] - scores[a] || a - b)
          .slice(0, k);
      try {
        const exclude = (u: number) => [u % config.items, (7 * u) % config.items];
        const [full, ranked] = await Promise.all([
          Promise.all(embeddings.slice(0, 40).map((e) => pool.decode(e))),
          Promise.all(embeddings.slice(0, 40).map((e, u) => pool.decode(e, { k: 12, exclude: exclude(u) }))),
        ]);
        ranked.forEach((top, u) => {
          expect(Array.from(top.items)).toEqual(bySort(full[u], 12, exclude(u)));
          top.scores.forEach((score, r) => expect(score).toBeCloseTo(full[u][top.items[r]], 5));
        });
        const session = [5, 50, 150];
        const folded = await pool.foldIn(session, { k: 400, exclude: session });
        // more asked than there are items: every item but the session's, best first
        expect(Array.from(folded.items)).toEqual(bySort(await pool.foldIn(session), config.items, session));
        const neighbours = await pool.similar(7, { k: 5, exclude: [7] });
        expect(Array.from(neighbours.items)).toEqual(bySort(await pool.similar(7), 5, [7]));
      } finally {
        await pool.close();
      }
    },
  );

  it.each([0, 1])('answers what was asked before close, then refuses new work, with %i threads', async (threads) => {
    const pool = await ScoringPool.start(model, blob, { threads, maxBatch: 4 });
    const asked = embeddings.slice(0, 20).map((e) => pool.decode(e, { k: 3, exclude: [] }));
    // returns once the queue is drained: a close that waited out this grace would time the test out
    const closing = pool.close(60_000);
    await expect(pool.decode(embeddings[0])).rejects.toThrow(/closed/);
    const answers = await Promise.all(asked);
    answers.forEach((top, u) => {
      const row = model.decode(embeddings[u], 1);
      expect(Array.from(top.items)).toEqual(
        Array.from(row.keys())
          .sort((a, b) => row[b] - row[a])
          .slice(0, 3),
      );
    });
    await closing;
  });

  it('refuses what is still queued when the grace period runs out, without leaving a request hanging', async () => {
    const pool = await ScoringPool.start(model, blob, { threads: 1, maxBatch: 1 });
    const asked = embeddings.map((e) =>
      pool.decode(e).then(
        () => 'scored',
        (err: Error) => err.message,
      ),
    );
    await pool.close(0);
    const outcomes = await Promise.all(asked);
    expect(outcomes.filter((o) => o !== 'scored').length).toBeGreaterThan(0);
    outcomes.filter((o) => o !== 'scored').forEach((o) => expect(o).toMatch(/closed/));
  });

  it("runs its threads below the calling thread's priority, so scoring takes the cores answering leaves", async () => {
    // field 19 of /proc/<task>/stat, counted after the parenthesised command name
    const niceOf = (statFile: string) => {
      const stat = readFileSync(statFile, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const niceOfThreads = () => readdirSync('/proc/self/task').map((tid) => niceOf(`/proc/self/task/${tid}/stat`));
    const before = niceOfThreads().filter((n) => n > 0).length;
    const pool = await ScoringPool.start(model, blob, { threads: 2 });
    try {
      expect(niceOfThreads().filter((n) => n > 0).length - before).toBe(2);
      // this thread keeps its own priority
      expect(niceOf('/proc/thread-self/stat')).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('refuses work once closed', async () => {
    const pool = await ScoringPool.start(model, blob, { threads: 1 });
    await pool.close();
    await expect(pool.decode(embeddings[0])).rejects.toThrow(/closed/);
  });
});
