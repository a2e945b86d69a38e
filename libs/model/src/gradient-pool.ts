import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ModelBackend } from './backend';
import { batchGradients, TrainBatch } from './dae-gradients';
import { DaeConfig, DaeParams } from './dae.model';

export type WorkerRequest =
  | { type: 'init'; config: DaeConfig; params: SharedParams; grads: SharedParams; backend: ModelBackend }
  | { type: 'batch'; batch: TrainBatch };
export type WorkerReply = { type: 'ready'; backend: ModelBackend } | { type: 'done'; loss: number } | { type: 'error'; message: string };

interface SharedParams {
  weights: SharedArrayBuffer[];
  biases: SharedArrayBuffer[];
}

export const sharedAlloc = (n: number): Float32Array => new Float32Array(new SharedArrayBuffer(n * 4));

/**
 * Data-parallel gradients: the batch is cut into one shard per thread; this thread computes the
 * first shard while the workers compute the rest, then the shards' gradients are summed.
 * Each worker has its own wasm backend (wasm is single-threaded in Node), so T threads use T cores.
 */
export class GradientPool {
  private readonly workers: Worker[] = [];
  private readonly workerGrads: DaeParams[] = [];

  private constructor(
    private readonly config: DaeConfig,
    private readonly params: DaeParams,
    readonly grads: DaeParams,
  ) {}

  /** threads = 1 runs in-process with no workers; params must be SharedArrayBuffer-backed if threads > 1. */
  static async create(config: DaeConfig, params: DaeParams, threads: number, backend: ModelBackend): Promise<GradientPool> {
    const zerosLike = (p: DaeParams, alloc: (n: number) => Float32Array): DaeParams => ({
      weights: p.weights.map((a) => alloc(a.length)),
      biases: p.biases.map((a) => alloc(a.length)),
    });
    const pool = new GradientPool(config, params, zerosLike(params, (n) => new Float32Array(n)));
    try {
      for (let t = 1; t < threads; t++) {
        const grads = zerosLike(params, sharedAlloc);
        const worker = new Worker(workerFile());
        pool.workers.push(worker);
        pool.workerGrads.push(grads);
        await request(worker, { type: 'init', config, params: buffers(params), grads: buffers(grads), backend });
      }
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Gradients of the batch into this.grads; returns the batch's summed loss. */
  async compute(batch: TrainBatch): Promise<number> {
    if (this.workers.length === 0) return batchGradients(this.config, this.params, batch, this.grads);
    const shards = shardBatch(batch, this.threads);
    const pending = this.workers.map((w, t) => request(w, { type: 'batch', batch: shards[t + 1] }));
    let loss = batchGradients(this.config, this.params, shards[0], this.grads);
    const replies = await Promise.all(pending);
    replies.forEach((r, t) => {
      loss += r.type === 'done' ? r.loss : 0;
      addInto(this.grads, this.workerGrads[t]);
    });
    return loss;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

function workerFile(): string {
  // run from TypeScript sources (swc-node hook, inherited through execArgv) or from the build
  const ts = join(__dirname, 'dae.worker.ts');
  return existsSync(ts) && __filename.endsWith('.ts') ? ts : join(__dirname, 'dae.worker.js');
}

function request(worker: Worker, msg: WorkerRequest): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: WorkerReply) => {
      cleanup();
      if (reply.type === 'error') reject(new Error(`gradient worker: ${reply.message}`));
      else resolve(reply);
    };
    const onError = (err: Error) => (cleanup(), reject(err));
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage(msg);
  });
}

function buffers(p: DaeParams): SharedParams {
  const sab = (a: Float32Array) => {
    if (!(a.buffer instanceof SharedArrayBuffer)) throw new Error('parameters must live in SharedArrayBuffers for worker threads');
    return a.buffer;
  };
  return { weights: p.weights.map(sab), biases: p.biases.map(sab) };
}

function addInto(target: DaeParams, source: DaeParams): void {
  const add = (t: Float32Array, s: Float32Array) => {
    for (let k = 0; k < t.length; k++) t[k] += s[k];
  };
  target.weights.forEach((t, l) => add(t, source.weights[l]));
  target.biases.forEach((t, l) => add(t, source.biases[l]));
}

/** Contiguous row ranges of near-equal size; each shard keeps the whole batch's scale. */
export function shardBatch(batch: TrainBatch, shards: number): TrainBatch[] {
  const out: TrainBatch[] = [];
  for (let s = 0; s < shards; s++) {
    const start = Math.floor((batch.rows * s) / shards);
    const end = Math.floor((batch.rows * (s + 1)) / shards);
    const base = batch.indptr[start];
    const indptr = new Int32Array(end - start + 1);
    for (let r = start; r <= end; r++) indptr[r - start] = batch.indptr[r] - base;
    const stop = batch.indptr[end];
    out.push({
      rows: end - start,
      indptr,
      indices: batch.indices.slice(base, stop),
      input: batch.input.slice(base, stop),
      target: batch.target.slice(base, stop),
      scale: batch.scale,
    });
  }
  return out;
}
