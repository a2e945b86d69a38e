import { carveValidation, CsrMatrix, HeldOutRows, holdOutUsers, ValidationSet } from '@app/model';
import { createRng } from '@app/random';

/** Share of the users in each held-out set: the early-stopping users and the gate users. */
export const HELD_OUT_SHARE = 0.1;
/** On small data each set still gets this many users (figures on a handful of users are noise)... */
export const MIN_HELD_OUT_USERS = 50;
/** ...but never more than this share of them, so most users are still trained on. */
const MAX_SMALL_DATA_SHARE = 0.2;
/** On large data a set is capped: it is scored every epoch, and its figures are precise well before this. */
export const MAX_HELD_OUT_USERS = 10_000;

// seed offsets: the two sets are drawn from the job's seed, each from a stream of its own
const EARLY_STOPPING_SEED = 7;
const GATE_SEED = 11;

export interface TrainingSplit {
  /** What the model is trained on: every user but the gate users, the early-stopping users without their targets. */
  train: CsrMatrix;
  /** Row of the interaction matrix per row of `train`. */
  trainRows: Int32Array;
  /** Early-stopping users (rows of `train`): their targets pick the epoch. */
  earlyStopping: ValidationSet;
  /** Gate users, held out from training and early stopping: the version's metrics and the quality gate score them. */
  gate: HeldOutRows & { rows: Int32Array };
}

/** Users per held-out set out of `users`: HELD_OUT_SHARE, at least MIN_HELD_OUT_USERS on small data, at most MAX_HELD_OUT_USERS. */
export function heldOutCount(users: number): number {
  const floor = Math.min(MIN_HELD_OUT_USERS, Math.floor(MAX_SMALL_DATA_SHARE * users));
  return Math.min(MAX_HELD_OUT_USERS, Math.max(floor, Math.round(HELD_OUT_SHARE * users)));
}

/**
 * The training job's users in three disjoint groups: gate users (whole rows held out), early-stopping
 * users (picked among the others by carveValidation, which lends their targets to validation) and
 * the rest. Reproducible for a seed.
 */
export function splitForTraining(matrix: CsrMatrix, seed: number): TrainingSplit {
  const count = heldOutCount(matrix.rows);
  const gate = holdOutUsers(matrix, count, createRng(seed + GATE_SEED));
  // carveValidation takes a share of the rows it is given: the same count as the gate's
  const share = gate.rest.rows > 0 ? count / gate.rest.rows : 0;
  const { train, validation } = carveValidation(gate.rest, share, createRng(seed + EARLY_STOPPING_SEED));
  return {
    train,
    trainRows: gate.restRows,
    earlyStopping: validation,
    gate: { rows: gate.rows, input: gate.input, heldOut: gate.heldOut },
  };
}
