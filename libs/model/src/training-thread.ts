import { AdamOptions, AdamState, adamStep, emaDecayAt, emaStep } from './adam';
import { shardGradients, TrainBatch } from './dae-gradients';
import { DaeConfig, DaeParams } from './dae-config';
import { AdamKernel } from './kernels/parameter-arena';

/** Polyak averaging of the parameters: the averaged copy and the per-step decay. */
export interface EmaTarget {
  params: DaeParams;
  decay: number;
}

/**
 * A data-parallel training as each of its threads holds it: the same arrays (shared memory when
 * there are worker threads) and the settings that step them. The trainer's thread and the workers
 * run the same two functions below on it, each on its own shards and its own slice.
 */
export interface ThreadTraining {
  config: DaeConfig;
  params: DaeParams;
  /** One gradient per shard of a batch. */
  grads: DaeParams[];
  adam: AdamState;
  options: AdamOptions;
  /** Polyak-averaged copy of the parameters, updated after each step, with its decay. */
  ema: EmaTarget | null;
  /** Per dense layer, its weights transposed, kept current by the Adam steps (with the kernel only). */
  transposed: (Float32Array | undefined)[];
}

/** A shard of a batch as dealt to a thread: its index among the shards, and its rows. */
export interface DealtShard {
  index: number;
  batch: TrainBatch;
}

/** The gradients of a thread's shards, each into its shard's array; returns their summed loss. */
export function dealtGradients(t: ThreadTraining, mine: readonly DealtShard[]): number {
  return shardGradients(
    t.config,
    t.params,
    mine.map((s) => s.batch),
    mine.map((s) => t.grads[s.index]),
    t.transposed,
  );
}

/** Step `step` on slice `part` of `parts` of every array: Adam, then the average when there is one. */
export function stepSlice(
  t: ThreadTraining,
  kernel: AdamKernel | null,
  step: number,
  part: number,
  parts: number,
): void {
  adamStep(t.params, t.grads, t.adam, t.options, step, { part, parts, kernel, transposed: t.transposed });
  if (t.ema) emaStep(t.ema.params, t.params, emaDecayAt(t.ema.decay, step), part, parts);
}
