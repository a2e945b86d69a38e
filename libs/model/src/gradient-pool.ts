import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AdamOptions, adamState, AdamState, adamStep, emaDecayAt, emaStep, zerosLike } from './adam';
import { ModelBackend } from './backend';
import { batchGradients, TrainBatch } from './dae-gradients';
import { DaeConfig, DaeParams } from './dae.model';

export interface SharedParams {
  weights: SharedArrayBuffer[];
  biases: SharedArrayBuffer[];
}

export type WorkerRequest =
  | {
      type: 'init';
      index: number;
      threads: number;
      config: DaeConfig;
      params: SharedParams;
      grads: SharedParams[];
      adam: { m: SharedParams; v: SharedParams };
      options: AdamOptions;
      /** Polyak-averaged copy of the parameters, updated after each step, with its decay. */
      ema: { params: SharedParams; decay: number } | null;
      backend: ModelBackend;
    }
  | { type: 'batch'; batch: TrainBatch }
  | { type: 'update'; step: number };
export type WorkerReply = { type: 'ready'; backend: ModelBackend } | { type: 'done'; loss: number } | { type: 'error'; message: string };

/** Polyak averaging of the parameters: the averaged copy and the per-step decay. */
export interface EmaTarget {
  params: DaeParams;
  decay: number;
}

export const sharedAlloc = (n: number): Float32Array => new Float32Array(new SharedArrayBuffer(n * 4));

/**
 * Data-parallel training steps. Each batch is cut into one shard per thread: this thread computes
 * the first shard while worker threads compute the others (each worker has its own wasm backend,
 * which is single-threaded in Node, so T threads use T cores). Then every thread applies Adam to
 * its own slice of the parameters, summing the shards' gradients. With one thread there are no
 * workers and nothing is shared.
 */
export class DataParallelTrainer {
  private readonly workers: Worker[] = [];
  private step = 0;

  private constructor(
    private readonly config: DaeConfig,
    private readonly params: DaeParams,
    private readonly grads: DaeParams[],
    private readonly adam: AdamState,
    private readonly options: AdamOptions,
    private readonly ema: EmaTarget | null,
  ) {}

  /**
   * `params` (and `ema.params`) must be allocated with sharedAlloc when threads > 1. With `ema`,
   * every step also moves `ema.params` toward the new parameters (emaStep, warm-up by emaDecayAt).
   */
  static async create(config: DaeConfig, params: DaeParams, options: AdamOptions, threads: number, backend: ModelBackend, ema: EmaTarget | null = null): Promise<DataParallelTrainer> {
    const alloc = threads > 1 ? sharedAlloc : undefined;
    const grads = Array.from({ length: threads }, () => zerosLike(params, alloc));
    const trainer = new DataParallelTrainer(config, params, grads, adamState(params, alloc), options, ema);
    try {
      for (let t = 1; t < threads; t++) {
        const worker = new Worker(workerFile());
        trainer.workers.push(worker);
        await request(worker, {
          type: 'init',
          index: t,
          threads,
          config,
          params: buffers(params),
          grads: grads.map(buffers),
          adam: { m: buffers(trainer.adam.m), v: buffers(trainer.adam.v) },
          options,
          ema: ema && { params: buffers(ema.params), decay: ema.decay },
          backend,
        });
      }
    } catch (err) {
      await trainer.close();
      throw err;
    }
    return trainer;
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Gradients of the batch, then one Adam step; returns the batch's summed loss. */
  async trainStep(batch: TrainBatch): Promise<number> {
    this.step++;
    if (this.workers.length === 0) {
      const loss = batchGradients(this.config, this.params, batch, this.grads[0]);
      adamStep(this.params, this.grads, this.adam, this.options, this.step);
      if (this.ema) emaStep(this.ema.params, this.params, emaDecayAt(this.ema.decay, this.step));
      return loss;
    }
    const shards = shardBatch(batch, this.threads);
    const pending = this.workers.map((w, t) => request(w, { type: 'batch', batch: shards[t + 1] }));
    let loss = batchGradients(this.config, this.params, shards[0], this.grads[0]);
    for (const reply of await Promise.all(pending)) loss += reply.type === 'done' ? reply.loss : 0;
    const updates = this.workers.map((w) => request(w, { type: 'update', step: this.step }));
    adamStep(this.params, this.grads, this.adam, this.options, this.step, 0, this.threads);
    if (this.ema) emaStep(this.ema.params, this.params, emaDecayAt(this.ema.decay, this.step), 0, this.threads);
    await Promise.all(updates);
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
      if (reply.type === 'error') reject(new Error(`training worker: ${reply.message}`));
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
      indices: batch.indices.slice(base, stop), // a copy: posting a view would clone its whole buffer
      input: batch.input.slice(base, stop),
      target: batch.target.slice(base, stop),
      ...(batch.weight && { weight: batch.weight.slice(base, stop) }),
      scale: batch.scale,
    });
  }
  return out;
}
