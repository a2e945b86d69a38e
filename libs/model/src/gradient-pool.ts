import { Worker } from 'node:worker_threads';
import { AdamOptions, adamState, transposeInto, zerosLike } from './adam';
import { ModelBackend } from './backend';
import { TrainBatch } from './dae-gradients';
import { DaeConfig, DaeParams, parameterLengths } from './dae-config';
import { AdamKernel, adamKernel, ParameterArena } from './kernels/parameter-arena';
import { meanInOrder } from './eval/metrics';
import { dealtGradients, DealtShard, EmaTarget, stepSlice, ThreadTraining } from './training-thread';
import { ValidationSet, validationRows, validationValues } from './validation-scoring';
import { workerEntry } from './worker-entry';

export type WorkerRequest =
  | {
      type: 'init';
      /** This worker's thread index (0 is the trainer's own thread) and the thread count. */
      index: number;
      threads: number;
      /** Every array a view of shared memory (a message shares it, never copies it). */
      training: ThreadTraining;
      /** The arena's memory, for the wasm Adam kernel (null: the arrays are plain SharedArrayBuffers). */
      memory: WebAssembly.Memory | null;
      backend: ModelBackend;
    }
  | { type: 'batch'; shards: DealtShard[] }
  | { type: 'update'; step: number; learningRate: number }
  /** Score this share of the validation users (`set` only when it changed) with the parameters, or their average. */
  | { type: 'validate'; set?: ValidationSet; k: number; averaged: boolean };
export type WorkerReply =
  | { type: 'ready'; backend: ModelBackend }
  | { type: 'done'; loss: number }
  | { type: 'values'; values: Float64Array }
  | { type: 'error'; message: string };

export const sharedAlloc = (n: number): Float32Array => new Float32Array(new SharedArrayBuffer(n * 4));

export interface TrainerOptions {
  config: DaeConfig;
  /** From `arena` when there is one; else allocated with sharedAlloc when threads > 1. */
  params: DaeParams;
  adam: AdamOptions;
  threads: number;
  /** Default: threads. More threads than shards would idle, so threads stop there. */
  shards?: number;
  backend: ModelBackend;
  /** With it, every step also moves `ema.params` toward the new parameters (emaStep, warm-up by emaDecayAt). */
  ema?: EmaTarget | null;
  /**
   * Where the gradients and Adam's moments go too, so Adam runs in the wasm kernel, and transposed
   * copies of the dense layers' weights, which the kernel keeps current (the forward pass needs
   * them); from DataParallelTrainer.arenaFor.
   */
  arena?: ParameterArena | null;
}

/**
 * Data-parallel training steps. Each batch is cut into a fixed number of shards, dealt to the
 * threads (shard s to thread s mod T): this thread computes its shards while worker threads
 * compute theirs (each worker has its own wasm backend, which is single-threaded in Node, so T
 * threads use T cores). Then every thread applies Adam to its own slice of the parameters, summing
 * the shards' gradients. The sums, and so the trained model, depend on the shard count alone: two
 * shards on one thread give the same weights, bit for bit, as two threads. With one thread there
 * are no workers and nothing is shared.
 */
export class DataParallelTrainer {
  private readonly workers: Worker[] = [];
  private step = 0;
  /** The validation set whose shares the threads hold, and this thread's share. */
  private validation: { whole: ValidationSet; mine: ValidationSet } | null = null;

  private constructor(
    private readonly shards: number,
    private readonly training: ThreadTraining,
    private readonly kernel: AdamKernel | null,
  ) {}

  /**
   * An arena for a training's parameters and everything the trainer allocates beside them: each
   * shard's gradient, Adam's two moments, the transposed weights, and the average with `ema`.
   * Null when that exceeds one wasm memory (training then runs the JS loops).
   */
  static arenaFor(config: DaeConfig, shards: number, ema: boolean): ParameterArena | null {
    return ParameterArena.create(parameterLengths(config), 4 + shards + (ema ? 1 : 0));
  }

  static async create(opts: TrainerOptions): Promise<DataParallelTrainer> {
    const { config, params, adam: options, backend } = opts;
    const [ema, arena] = [opts.ema ?? null, opts.arena ?? null];
    const shards = opts.shards ?? opts.threads;
    if (!(Number.isInteger(shards) && shards >= 1))
      throw new RangeError(`shards must be a positive integer, got ${shards}`);
    const threads = Math.min(opts.threads, shards);
    const alloc = arena?.alloc ?? (threads > 1 ? sharedAlloc : undefined);
    const grads = Array.from({ length: shards }, () => zerosLike(params, alloc));
    // layer 0 is sparse (no transpose); the dense ones start transposed here, then Adam keeps them
    const transposed = arena
      ? params.weights.map((w, l) => (l === 0 ? undefined : transposedCopy(w, params.biases[l].length, arena.alloc)))
      : [];
    const training: ThreadTraining = {
      config,
      params,
      grads,
      adam: adamState(params, alloc),
      options,
      ema,
      transposed,
    };
    const trainer = new DataParallelTrainer(shards, training, arena && adamKernel(arena.memory));
    try {
      for (let t = 1; t < threads; t++) {
        const { file, execArgv } = workerEntry(__dirname, 'dae.worker', __filename);
        const worker = new Worker(file, { execArgv });
        trainer.workers.push(worker);
        await request(worker, {
          type: 'init',
          index: t,
          threads,
          training: {
            ...training,
            params: shared(params),
            grads: grads.map(shared),
            adam: { m: shared(training.adam.m), v: shared(training.adam.v) },
            ema: ema && { params: shared(ema.params), decay: ema.decay },
          },
          memory: arena?.memory ?? null,
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

  /** From the next step on (the threads take it with each step's update message). */
  setLearningRate(learningRate: number): void {
    this.training.options = { ...this.training.options, learningRate };
  }

  /** Gradients of the batch, then one Adam step; returns the batch's summed loss. */
  async trainStep(batch: TrainBatch): Promise<number> {
    this.step++;
    const shards = this.shards === 1 ? [batch] : shardBatch(batch, this.shards);
    const dealt = (t: number): DealtShard[] =>
      shards.flatMap((shard, index) => (index % this.threads === t ? [{ index, batch: shard }] : []));
    if (this.workers.length === 0) {
      const loss = dealtGradients(this.training, dealt(0));
      stepSlice(this.training, this.kernel, this.step, 0, 1);
      return loss;
    }
    const pending = this.workers.map((w, t) => request(w, { type: 'batch', shards: dealt(t + 1) }));
    let loss = dealtGradients(this.training, dealt(0));
    for (const reply of await Promise.all(pending)) loss += reply.type === 'done' ? reply.loss : 0;
    const { learningRate } = this.training.options;
    const updates = this.workers.map((w) => request(w, { type: 'update', step: this.step, learningRate }));
    stepSlice(this.training, this.kernel, this.step, 0, this.threads);
    await Promise.all(updates);
    return loss;
  }

  /**
   * NDCG@k on the validation users, of the parameters or (with ema) their average. Each thread
   * scores a contiguous share of the users; the per-user values are added in row order, so the
   * mean is the one thread would get, to the bit.
   */
  async validationNdcg(validation: ValidationSet, k: number): Promise<number> {
    const n = validation.input.rows;
    const bounds = Array.from({ length: this.threads + 1 }, (_, t) => Math.floor((n * t) / this.threads));
    const fresh = this.validation?.whole !== validation;
    const shares = fresh ? { whole: validation, mine: validationRows(validation, 0, bounds[1]) } : this.validation!;
    this.validation = shares;
    const { config, params, ema } = this.training;
    const averaged = ema !== null;
    const pending = this.workers.map((w, t) =>
      request(w, {
        type: 'validate',
        k,
        averaged,
        ...(fresh && { set: validationRows(validation, bounds[t + 1], bounds[t + 2]) }),
      }),
    );
    const mine = validationValues(config, ema?.params ?? params, shares.mine, k);
    const theirs = (await Promise.all(pending)).map((reply) => {
      if (reply.type !== 'values') throw new Error(`training worker answered ${reply.type} to validate`);
      return reply.values;
    });
    return meanInOrder([mine, ...theirs]);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
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

function transposedCopy(w: Float32Array, cols: number, alloc: (n: number) => Float32Array): Float32Array {
  const values = alloc(w.length);
  transposeInto(w, { values, cols });
  return values;
}

/** `p` itself, once checked to live in shared memory: a worker must see the same arrays, not copies. */
function shared(p: DaeParams): DaeParams {
  for (const a of [...p.weights, ...p.biases]) {
    if (!(a.buffer instanceof SharedArrayBuffer))
      throw new Error('parameters must live in shared memory for worker threads');
  }
  return p;
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
