import { Worker } from 'node:worker_threads';
import { ModelBackend } from '../backend';
import { workerEntry } from '../worker-entry';
import { DaeModel } from '../dae.model';
import { ItemIndex } from '../ann/item-index';
import { RankedItems } from '../score';
import { batchOf, Ranking, scoreBatch, ScoredRow, ScoringBatch, ScoringInput } from './score-batch';
import { ScoringKind, ScoringReply, ScoringRequest, ScoringWorkerData } from './scoring-protocol';

export interface ScoringPoolOptions {
  /** Worker threads, one tfjs backend and one core each; 0 scores on the calling thread. */
  threads: number;
  backend?: ModelBackend;
  /** Most rows scored in one product: bounds a batch's latency and memory. */
  maxBatch?: number;
  /** Rows a batch waits for (up to maxWaitMs) before it starts. */
  minBatch?: number;
  maxWaitMs?: number;
  /** Rows that may wait; one more is refused with ScoringOverloadedError (default: no bound). */
  maxQueue?: number;
  /** An ItemIndex's directory (ItemIndex.save): rankings take their candidates from it (threads view it). */
  indexDir?: string;
}

/** The pool's queue is full: the caller answers "try again" at once rather than wait behind it. */
export class ScoringOverloadedError extends Error {
  constructor(readonly queued: number) {
    super(`scoring is overloaded: ${queued} rows are already waiting`);
  }
}

interface Pending {
  kind: ScoringKind;
  queuedAt: number;
  input: ScoringInput;
  ranking: Ranking | null;
  resolve: (row: ScoredRow) => void;
  reject: (err: unknown) => void;
}

/** Scores a batch: one answer per row. */
interface Executor {
  run(batch: ScoringBatch, rankings: (Ranking | null)[]): Promise<ScoredRow[]>;
  close(): Promise<void>;
}

// Small batches keep the request thread and the scorer working at once: while one batch is scored,
// the answers of the last are written and the next requests parsed. 64 connections folding in
// on one scoring thread: 16 rows gave 1,000-1,070 req/s, p99 75-93 ms; 64 rows 795-914, p99
// 104-139 ms (bench/serve.ts, alternating runs). A row costs about the same from 8 rows up.
const DEFAULT_MAX_BATCH = 16;
// A product of one row costs about as much as one of eight: it reads every weight either way
// (the output layer is items x width floats, 48 MB at 20k items). So a batch waits a little for
// company rather than start alone.
const DEFAULT_MIN_BATCH = 8;
const DEFAULT_MAX_WAIT_MS = 4;
// A shutdown answers what it was already asked: 64 queued fold-ins take ~0.1 s at 20k items, ~1 s
// at 200k. A publish that queued thousands of rows is cut short instead of holding the exit.
const CLOSE_GRACE_MS = 5_000;

/**
 * Item scores for serving, micro-batched: requests that arrive while the scorers are busy are
 * scored together, one (n x width) @ (width x items) product instead of n vector products (the
 * backend runs several times closer to its peak on a batch). With threads, each batch goes to an
 * idle worker thread, so scoring uses every core and never blocks the thread answering requests.
 */
export class ScoringPool {
  private readonly queue: Pending[] = [];
  private readonly idle: Executor[];
  private scheduled = false;
  private waitTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private drainWaiters: (() => void)[] = [];

  private constructor(
    private readonly executors: Executor[],
    private readonly batching: Required<Pick<ScoringPoolOptions, 'maxBatch' | 'minBatch' | 'maxWaitMs' | 'maxQueue'>>,
    readonly threads: number,
  ) {
    this.idle = [...executors];
  }

  /** `model` scores in-process when threads is 0; `blob` (its serialised form) feeds the threads. */
  static async start(model: DaeModel, blob: Uint8Array, options: ScoringPoolOptions): Promise<ScoringPool> {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    const batching = {
      maxBatch,
      minBatch: Math.min(maxBatch, options.minBatch ?? DEFAULT_MIN_BATCH),
      maxWaitMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
      maxQueue: options.maxQueue ?? Infinity,
    };
    if (options.threads <= 0) {
      const local = options.indexDir ? model.withIndex(ItemIndex.view(options.indexDir)) : model;
      return new ScoringPool([new LocalExecutor(local, local !== model)], batching, 0);
    }
    const shared = new SharedArrayBuffer(blob.byteLength);
    new Uint8Array(shared).set(blob);
    const started = await Promise.allSettled(
      Array.from({ length: options.threads }, () =>
        WorkerExecutor.start({ blob: shared, backend: options.backend, indexDir: options.indexDir }),
      ),
    );
    const executors = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(executors.map((e) => e.close()));
      throw failed.reason;
    }
    return new ScoringPool(executors, batching, options.threads);
  }

  /**
   * The item scores of one user's embedding; with a ranking, only its k best items. `history`: the
   * items the embedding was encoded from, for the model's item term (without it, the autoencoder's
   * scores alone).
   */
  decode(embedding: Float32Array, ranking?: undefined, history?: readonly number[] | null): Promise<Float32Array>;
  decode(embedding: Float32Array, ranking: Ranking, history?: readonly number[] | null): Promise<RankedItems>;
  decode(embedding: Float32Array, ranking?: Ranking, history: readonly number[] | null = null): Promise<ScoredRow> {
    return this.enqueue('decode', { embedding, history }, ranking);
  }

  /** The item scores of an ad hoc history (item indices), encoded and decoded in one pass. */
  foldIn(items: readonly number[]): Promise<Float32Array>;
  foldIn(items: readonly number[], ranking: Ranking): Promise<RankedItems>;
  foldIn(items: readonly number[], ranking?: Ranking): Promise<ScoredRow> {
    return this.enqueue('foldIn', items, ranking);
  }

  /** The scores of a few items for one embedding (`history` as decode's), with the bits decode gives them. */
  itemScores(
    embedding: Float32Array,
    items: readonly number[],
    history: readonly number[] | null = null,
  ): Promise<Float32Array> {
    return this.enqueue('itemScores', { embedding, items, history }, undefined) as Promise<Float32Array>;
  }

  /** The autoencoder's reconstruction of an ad hoc history (no item term): what the anomaly score reads. */
  reconstruct(items: readonly number[]): Promise<Float32Array> {
    return this.enqueue('reconstruct', items, undefined) as Promise<Float32Array>;
  }

  /** The cosine of one item's vector with every item's. */
  similar(itemIndex: number): Promise<Float32Array>;
  similar(itemIndex: number, ranking: Ranking): Promise<RankedItems>;
  similar(itemIndex: number, ranking?: Ranking): Promise<ScoredRow> {
    return this.enqueue('similar', itemIndex, ranking);
  }

  /**
   * Refuses new work; what was asked before is still scored (a shutdown's in-flight requests get
   * their answers) for up to `graceMs`, then refused, and the threads stop.
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.pump();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.whenDrained(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.queue.splice(0).forEach((p) => p.reject(new Error('scoring pool closed')));
    await Promise.all(this.executors.map((e) => e.close()));
  }

  private whenDrained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private isDrained(): boolean {
    return this.queue.length === 0 && this.idle.length === this.executors.length;
  }

  private enqueue(kind: ScoringKind, input: ScoringInput, ranking: Ranking | undefined): Promise<ScoredRow> {
    if (this.closed) return Promise.reject(new Error('scoring pool closed'));
    if (this.queue.length >= this.batching.maxQueue)
      return Promise.reject(new ScoringOverloadedError(this.queue.length));
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, input, ranking: ranking ?? null, queuedAt: performance.now(), resolve, reject });
      // later in this turn of the event loop, so requests parsed together are batched together
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      // the oldest request's kind, and every request of that kind up to a batch
      const kind = this.queue[0].kind;
      const waited = performance.now() - this.queue[0].queuedAt;
      const ready = this.queue.reduce((n, p) => n + (p.kind === kind ? 1 : 0), 0);
      // closing: no waiting for company, the last requests go now; nor for chosen items' scores,
      // whose rows cost next to nothing apart
      if (!this.closed && kind !== 'itemScores' && ready < this.batching.minBatch && waited < this.batching.maxWaitMs) {
        this.waitTimer ??= setTimeout(() => ((this.waitTimer = null), this.pump()), this.batching.maxWaitMs - waited);
        return;
      }
      // shared among the idle threads, so a burst keeps every core busy
      const size = Math.min(
        this.batching.maxBatch,
        Math.max(this.batching.minBatch, Math.ceil(ready / this.idle.length)),
      );
      // one pass (a publish queues thousands of rows at once: no splice per row)
      const batch: Pending[] = [];
      const rest: Pending[] = [];
      for (const p of this.queue) (batch.length < size && p.kind === kind ? batch : rest).push(p);
      this.queue.splice(0, this.queue.length, ...rest);
      const executor = this.idle.pop()!;
      executor
        .run(
          batchOf(
            kind,
            batch.map((p) => p.input),
          ),
          batch.map((p) => p.ranking),
        )
        .then((rows) => batch.forEach((p, r) => p.resolve(rows[r])))
        .catch((err) => batch.forEach((p) => p.reject(err)))
        .finally(() => {
          this.idle.push(executor);
          this.pump();
          if (this.isDrained()) this.drainWaiters.splice(0).forEach((resolve) => resolve());
        });
    }
  }
}

/** Threads = 0: the calling thread scores, between requests. */
class LocalExecutor implements Executor {
  constructor(
    private readonly model: DaeModel,
    /** A model made for the pool (with its index): disposed with it. */
    private readonly owned: boolean,
  ) {}

  run(batch: ScoringBatch, rankings: (Ranking | null)[]): Promise<ScoredRow[]> {
    // a throw rejects, as a thread's failure does
    return new Promise((resolve) => resolve(scoreBatch(this.model, batch, rankings)));
  }

  close(): Promise<void> {
    if (this.owned) this.model.dispose();
    return Promise.resolve();
  }
}

class WorkerExecutor implements Executor {
  private nextId = 0;
  private waiting: { id: number; resolve: (rows: ScoredRow[]) => void; reject: (e: unknown) => void } | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: ScoringReply) => {
      const w = this.waiting;
      if (!w || !('id' in msg) || msg.id !== w.id) return;
      this.waiting = null;
      if ('error' in msg) w.reject(new Error(`scoring thread: ${msg.error}`));
      else w.resolve(msg.rows);
    });
    // a crashed thread fails its batch; the pool keeps the executor, and the next batch fails fast too
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`scoring thread exited (${code})`)));
  }

  static start(data: ScoringWorkerData): Promise<WorkerExecutor> {
    const { file, execArgv } = workerEntry(__dirname, 'scoring.worker', __filename);
    const worker = new Worker(file, { workerData: data, execArgv });
    // scoring threads never keep a process alive on their own (the server does, while it listens)
    worker.unref();
    return new Promise((resolve, reject) => {
      const onMessage = (msg: ScoringReply) => {
        if ('ready' in msg) {
          cleanup();
          resolve(new WorkerExecutor(worker));
        } else if ('failed' in msg) {
          cleanup();
          void worker.terminate();
          reject(new Error(`scoring thread: ${msg.failed}`));
        }
      };
      const onError = (err: Error) => (cleanup(), reject(err));
      const cleanup = () => (worker.off('message', onMessage), worker.off('error', onError));
      worker.on('message', onMessage);
      worker.on('error', onError);
    });
  }

  run(batch: ScoringBatch, rankings: (Ranking | null)[]): Promise<ScoredRow[]> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.waiting = { id, resolve, reject };
      const msg: ScoringRequest = { id, batch, rankings: rankings.map(plainRanking) };
      this.worker.postMessage(
        msg,
        batch.kind === 'decode' || batch.kind === 'itemScores' ? [batch.embeddings.buffer as ArrayBuffer] : [],
      );
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    // a batch still running past the grace period fails rather than hangs
    this.fail(new Error('scoring pool closed'));
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    const w = this.waiting;
    this.waiting = null;
    w?.reject(err);
  }
}

/** Exclusions as a plain array: a typed view (a row of a CSR matrix) would clone the whole matrix. */
function plainRanking(ranking: Ranking | null): Ranking | null {
  return ranking && !Array.isArray(ranking.exclude) ? { k: ranking.k, exclude: Array.from(ranking.exclude) } : ranking;
}
