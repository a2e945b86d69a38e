import { createRng, Rng, shuffleInPlace } from '@app/random';
import { DEFAULT_ADAM } from './adam';
import { BackendInfo, initBackend, ModelBackend } from './backend';
import { TrainBatch } from './dae-gradients';
import { DaeModel } from './dae.model';
import { cloneParams, DaeConfig, DaeParams, DEFAULT_DAE_CONFIG, initParams } from './dae-config';
import { DataParallelTrainer, sharedAlloc } from './gradient-pool';
import { buildCsr, CsrMatrix, rowLength } from './interaction-matrix';
import { SampledTrainer } from './sampled-trainer';
import { ValidationSet, validationRows } from './validation-scoring';

export { ValidationSet };

export interface TrainDaeOptions {
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Input dropout (the corruption), training only. */
  dropout: number;
  /**
   * Emphasized denoising (Vincent et al. 2010; Steck, NeurIPS 2020): weight of the interactions that
   * dropout removed from the input, relative to the kept ones, in the loss. The kept ones can be
   * copied through (the identity); weighting the dropped ones up trains the model to predict what it
   * did not see. The weights are scaled so their expected sum per row is unchanged. 1 = plain DAE.
   */
  emphasis: number;
  /**
   * Logistic loss: weight of every interaction's term against the non-interactions' (weight 1),
   * which outnumber them by the catalogue's size over a row's length (CDAE samples negatives
   * instead). With the multinomial loss it only scales the loss. 1 = unweighted.
   */
  positiveWeight: number;
  /** Coupled L2 on the weights: the loss gains weightDecay / 2 * ||W||^2. */
  weightDecay: number;
  /** Stop after this many epochs without a better validation NDCG; 0 = never stop early. */
  patience: number;
  /**
   * Reduce on plateau: after this many epochs without a better validation NDCG (counted from the
   * best epoch or the last reduction, whichever is later), the learning rate is multiplied by
   * lrDecayFactor. 0 = a constant rate. A refit replays the reductions at the same epochs.
   */
  lrDecayPatience: number;
  lrDecayFactor: number;
  /** NDCG@k on validation picks the epoch. */
  validationK: number;
  /**
   * Early-stopping data. Without it, `carveValidation` users of the training rows each lend a share
   * of their items as held-out targets (and train on the rest); 0 = no early stopping.
   */
  validation?: ValidationSet;
  carveValidation: number;
  /**
   * After early stopping on a carved validation, train again on all the rows for the best epoch
   * count, so no training data is lost to model selection.
   */
  refit: boolean;
  /**
   * Polyak averaging: per-step decay of an exponential moving average of the weights (with a warm-up
   * over the first steps, see emaDecayAt); validation scores the averaged weights and they are the
   * returned model. 0 = off (the raw weights).
   */
  ema: number;
  /**
   * Sampled training (large catalogues, sampled-trainer.ts): per batch, the output layer scores only
   * the batch's own items and this many shared uniform negatives, and the item layers take lazy Adam
   * steps. 0 = the full output layer over every item. The [I-d-I] shape only, on one thread, no ema.
   */
  sampledNegatives: number;
  /** Data-parallel threads (worker_threads, one backend each), at most one per shard; sampled training uses one. */
  threads: number;
  /**
   * Shards each batch's gradient is summed from (default: threads). The trained model depends on
   * the shard count, not on the threads: with 2 shards, 1 thread and 2 threads give the same
   * weights, so runs on different core counts can be compared (and be scheduled freely).
   */
  shards?: number;
  backend?: ModelBackend;
  onEpoch?: (report: EpochReport) => void | Promise<void>;
}

/**
 * The one set of training defaults (evaluate, retrain, scheduled retrains): up to 200 epochs, stopped
 * 20 epochs after the best validation NDCG; Adam at 3e-3 on batches of 100 users; dropout 0.5.
 */
export const DEFAULT_TRAIN_OPTIONS: Omit<TrainDaeOptions, 'seed'> = {
  epochs: 200,
  batchSize: 100,
  learningRate: 3e-3,
  dropout: 0.5,
  emphasis: 1,
  positiveWeight: 1,
  weightDecay: 0,
  // on the suite's curves no better epoch came more than 10 after the previous best; 20 spent half
  // of Yelp's training past its best (docs/evaluation.md)
  patience: 10,
  lrDecayPatience: 0,
  lrDecayFactor: 0.3,
  validationK: 100,
  carveValidation: 0.1,
  refit: true,
  ema: 0,
  sampledNegatives: 0,
  threads: 1,
};

export interface EpochReport {
  epoch: number;
  /** Mean per-user training loss (without weight decay). */
  loss: number;
  /** Validation NDCG@validationK, null without validation. */
  ndcg: number | null;
  seconds: number;
  usersPerSecond: number;
  /** Set on the epochs of the final training on all rows after a carved validation. */
  phase?: 'refit';
}

export interface TrainDaeResult {
  /** The best epoch's model (by validation NDCG), or the last one without validation. */
  model: DaeModel;
  history: EpochReport[];
  bestEpoch: number;
  /** Validation NDCG at the best epoch (of the selection run when it was carved), null without validation. */
  bestNdcg: number | null;
  /** Epochs after which the learning rate was reduced (lrDecayPatience). */
  learningRateCuts: number[];
  backend: BackendInfo;
  threads: number;
  shards: number;
}

/** Share of a carved validation user's items held out as targets. */
const CARVE_HELD_OUT_SHARE = 0.2;
/** Users with fewer items lend none to the carved validation. */
const CARVE_MIN_ITEMS = 5;

/**
 * Trains a DAE on CSR rows (users x items). Deterministic for a seed, backend and thread count.
 * The loop owns the parameters as Float32Arrays (shared with worker threads when threads > 1):
 * per batch, gradients by hand (dae-gradients.ts), summed over shards, then an Adam step.
 */
export async function trainDae(
  train: CsrMatrix,
  config: Partial<DaeConfig> = {},
  options: Partial<TrainDaeOptions> & { seed: number },
): Promise<TrainDaeResult> {
  const opts: TrainDaeOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const carving = !opts.validation && opts.carveValidation > 0;
  const selected = await trainOnce(train, config, opts);
  if (!carving || !opts.refit) return selected;
  selected.model.dispose();
  const refit = await trainOnce(
    train,
    config,
    {
      ...opts,
      epochs: selected.bestEpoch,
      carveValidation: 0,
      patience: 0,
      onEpoch: opts.onEpoch && ((report) => opts.onEpoch?.({ ...report, phase: 'refit' })),
    },
    selected.learningRateCuts.filter((epoch) => epoch < selected.bestEpoch),
  );
  return {
    ...refit,
    history: [...selected.history, ...refit.history],
    bestEpoch: selected.bestEpoch,
    bestNdcg: selected.bestNdcg,
  };
}

/** `replayCuts`: reduce the learning rate after these epochs, instead of on validation plateaus. */
async function trainOnce(
  train: CsrMatrix,
  config: Partial<DaeConfig>,
  opts: TrainDaeOptions,
  replayCuts?: readonly number[],
): Promise<TrainDaeResult> {
  const fullConfig: DaeConfig = { ...DEFAULT_DAE_CONFIG, ...config, items: train.cols };
  const backend = await initBackend(opts.backend);
  const rng = createRng(opts.seed);

  let rows = train;
  let validation = opts.validation;
  if (!validation && opts.carveValidation > 0)
    ({ train: rows, validation } = carveValidation(train, opts.carveValidation, createRng(opts.seed + 1)));

  const shards = opts.shards ?? Math.max(1, Math.floor(opts.threads));
  const threads = Math.min(shards, Math.max(1, Math.floor(opts.threads)));
  if (!(opts.emphasis > 0 && Number.isFinite(opts.emphasis)))
    throw new RangeError(`emphasis must be a positive number, got ${opts.emphasis}`);
  if (!(opts.positiveWeight > 0 && Number.isFinite(opts.positiveWeight)))
    throw new RangeError(`positiveWeight must be a positive number, got ${opts.positiveWeight}`);
  if (!(Number.isInteger(opts.lrDecayPatience) && opts.lrDecayPatience >= 0))
    throw new RangeError(`lrDecayPatience must be a non-negative integer, got ${opts.lrDecayPatience}`);
  if (!(opts.lrDecayFactor > 0 && opts.lrDecayFactor <= 1))
    throw new RangeError(`lrDecayFactor must be in (0, 1], got ${opts.lrDecayFactor}`);
  if (!(opts.ema >= 0 && opts.ema < 1)) throw new RangeError(`ema must be in [0, 1), got ${opts.ema}`);
  const sampled = opts.sampledNegatives > 0;
  if (sampled && opts.ema > 0) throw new RangeError('sampled training does not average weights (ema must be 0)');
  const trainer = sampled
    ? sampledSteps(fullConfig, opts, rng)
    : await dataParallelSteps(fullConfig, opts, threads, shards, backend.backend);
  if (validation) validation = cappedValidation(validation, fullConfig.items);
  const history: EpochReport[] = [];
  let best: { epoch: number; ndcg: number; params: DaeParams } | null = null;
  const cuts: number[] = [];
  const plateau = (epoch: number) =>
    opts.lrDecayPatience > 0 && best !== null && epoch - Math.max(best.epoch, cuts.at(-1) ?? 0) >= opts.lrDecayPatience;
  const order = Int32Array.from({ length: rows.rows }, (_, r) => r);
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const started = performance.now();
      shuffleInPlace(order, rng);
      let lossSum = 0;
      for (let start = 0; start < order.length; start += opts.batchSize) {
        const batch = makeBatch(
          rows,
          order.subarray(start, start + opts.batchSize),
          fullConfig,
          opts.dropout,
          rng,
          opts.emphasis,
          opts.positiveWeight,
        );
        lossSum += await trainer.trainStep(batch);
      }
      const trainSeconds = (performance.now() - started) / 1000;
      const ndcg = validation ? await trainer.validationNdcg(validation, opts.validationK) : null;
      const report: EpochReport = {
        epoch,
        loss: lossSum / Math.max(1, rows.rows),
        ndcg,
        seconds: trainSeconds,
        usersPerSecond: rows.rows / trainSeconds,
      };
      history.push(report);
      await opts.onEpoch?.(report);
      if (ndcg !== null) {
        if (!best || ndcg > best.ndcg) best = { epoch, ndcg, params: trainer.snapshot() };
        else if (opts.patience > 0 && epoch - best.epoch >= opts.patience) break;
      }
      if (replayCuts ? replayCuts.includes(epoch) : plateau(epoch)) {
        cuts.push(epoch);
        trainer.setLearningRate(opts.learningRate * opts.lrDecayFactor ** cuts.length);
      }
    }
  } finally {
    await trainer.close();
  }
  const finalParams = best ? best.params : trainer.snapshot();
  return {
    model: new DaeModel(fullConfig, finalParams),
    history,
    bestEpoch: best?.epoch ?? history.length,
    bestNdcg: best?.ndcg ?? null,
    learningRateCuts: cuts,
    backend,
    threads: sampled ? 1 : threads,
    shards: sampled ? 1 : shards,
  };
}

/** What the epoch loop needs of a trainer, full or sampled. */
interface EpochSteps {
  trainStep(batch: TrainBatch): Promise<number>;
  validationNdcg(validation: ValidationSet, k: number): Promise<number>;
  setLearningRate(learningRate: number): void;
  /** A copy of the weights validation scores (the average with ema), owned by the caller. */
  snapshot(): DaeParams;
  close(): Promise<void>;
}

async function dataParallelSteps(
  config: DaeConfig,
  opts: TrainDaeOptions,
  threads: number,
  shards: number,
  backend: ModelBackend,
): Promise<EpochSteps> {
  const arena = DataParallelTrainer.arenaFor(config, shards, opts.ema > 0);
  const alloc = arena?.alloc ?? (threads > 1 ? sharedAlloc : undefined);
  const params = initParams(config, opts.seed, alloc);
  const ema = opts.ema > 0 ? { params: cloneParams(params, alloc), decay: opts.ema } : null;
  // what validation scores and training returns: the average when averaging, else the raw weights
  const evaluated = ema ? ema.params : params;
  const trainer = await DataParallelTrainer.create({
    config,
    params,
    adam: adamOptionsOf(opts),
    threads,
    shards,
    backend,
    ema,
    arena,
  });
  return {
    trainStep: (batch) => trainer.trainStep(batch),
    validationNdcg: (validation, k) => trainer.validationNdcg(validation, k),
    setLearningRate: (lr) => trainer.setLearningRate(lr),
    snapshot: () => cloneParams(evaluated),
    close: () => trainer.close(),
  };
}

function sampledSteps(config: DaeConfig, opts: TrainDaeOptions, rng: Rng): EpochSteps {
  const trainer = new SampledTrainer(
    config,
    initParams(config, opts.seed),
    adamOptionsOf(opts),
    opts.sampledNegatives,
    rng,
  );
  return {
    trainStep: (batch) => Promise.resolve(trainer.trainStep(batch)),
    validationNdcg: (validation, k) => Promise.resolve(trainer.validationNdcg(validation, k)),
    setLearningRate: (lr) => trainer.setLearningRate(lr),
    snapshot: () => {
      // params() transposes weights[1] into a new array already
      const p = trainer.params();
      return { weights: [p.weights[0].slice(), p.weights[1]], biases: p.biases.map((b) => b.slice()) };
    },
    close: () => Promise.resolve(),
  };
}

function adamOptionsOf(opts: TrainDaeOptions) {
  return { ...DEFAULT_ADAM, learningRate: opts.learningRate, weightDecay: opts.weightDecay };
}

/**
 * User-item scores validation may compute per epoch: above it (large catalogues) only the first
 * VALIDATION_SCORES / items validation users are scored (a carved validation's users are a random
 * draw, so its first rows are too). At 1M items that is 500 users, not 20,000 decodes of every item;
 * below 25,000 validation users at 20,000 items nothing changes.
 */
export const VALIDATION_SCORES = 5e8;

export function cappedValidation(validation: ValidationSet, items: number): ValidationSet {
  const cap = Math.max(1, Math.floor(VALIDATION_SCORES / Math.max(1, items)));
  return validation.input.rows <= cap ? validation : validationRows(validation, 0, cap);
}

/**
 * One batch: targets are the rows' values (1 when binary); the input is the L2-normalised row with
 * each interaction dropped with probability `dropout` and the survivors scaled by 1 / (1 - dropout).
 * With `emphasis` != 1 (and dropout), dropped interactions weigh `emphasis` times the kept ones in
 * the loss, both divided by the expected mean weight (1 - dropout) + dropout * emphasis so that
 * emphasis only moves weight from kept to dropped; the random draws are the same for any emphasis.
 * `positiveWeight` multiplies both.
 */
export function makeBatch(
  m: CsrMatrix,
  rowIndexes: ArrayLike<number>,
  config: DaeConfig,
  dropout: number,
  rng: Rng,
  emphasis = 1,
  positiveWeight = 1,
): TrainBatch {
  const n = rowIndexes.length;
  const indptr = new Int32Array(n + 1);
  for (let k = 0; k < n; k++) indptr[k + 1] = indptr[k] + rowLength(m, rowIndexes[k]);
  const nnz = indptr[n];
  const indices = new Int32Array(nnz);
  const input = new Float32Array(nnz);
  const target = new Float32Array(nnz);
  const keepScale = dropout > 0 ? 1 / (1 - dropout) : 1;
  const weight = (emphasis !== 1 && dropout > 0) || positiveWeight !== 1 ? new Float32Array(nnz) : undefined;
  const meanWeight = 1 - dropout + dropout * emphasis;
  const [keptWeight, droppedWeight] = [positiveWeight / meanWeight, (positiveWeight * emphasis) / meanWeight];
  for (let k = 0; k < n; k++) {
    const r = rowIndexes[k];
    const from = m.indptr[r];
    const len = m.indptr[r + 1] - from;
    const at = indptr[k];
    let norm = 0;
    for (let j = 0; j < len; j++) {
      const v = inputValue(m.values[from + j], config);
      indices[at + j] = m.indices[from + j];
      input[at + j] = v;
      // logistic targets are probabilities: any interaction is a 1
      target[at + j] = config.loss === 'logistic' ? (v > 0 ? 1 : 0) : v;
      norm += v * v;
    }
    const scale = norm > 0 ? keepScale / Math.sqrt(norm) : 0;
    for (let j = at; j < at + len; j++) {
      const keep = dropout <= 0 || rng.next() >= dropout;
      input[j] = keep ? input[j] * scale : 0;
      if (weight) weight[j] = keep ? keptWeight : droppedWeight;
    }
  }
  return { rows: n, indptr, indices, input, target, ...(weight && { weight }), scale: 1 / n };
}

function inputValue(raw: number, config: DaeConfig): number {
  return config.input === 'binary' ? (raw > 0 ? 1 : 0) : raw;
}

/**
 * Early-stopping data from the training rows alone: a `share` of users (with enough items) keep
 * 80% of their items as input and training data, and the other 20% become validation targets.
 */
export function carveValidation(
  train: CsrMatrix,
  share: number,
  rng: Rng,
): { train: CsrMatrix; validation: ValidationSet } {
  const users = Int32Array.from({ length: train.rows }, (_, r) => r).filter(
    (r) => rowLength(train, r) >= CARVE_MIN_ITEMS,
  );
  shuffleInPlace(users, rng);
  const chosen = users
    .subarray(0, Math.round(share * train.rows))
    .slice()
    .sort();
  const isChosen = new Uint8Array(train.rows);
  chosen.forEach((r) => (isChosen[r] = 1));

  const keepRow: number[] = [],
    keepCol: number[] = [],
    keepVal: number[] = [];
  const heldRow: number[] = [],
    heldCol: number[] = [],
    heldVal: number[] = [];
  const inRow: number[] = [];
  let v = 0;
  for (let r = 0; r < train.rows; r++) {
    const from = train.indptr[r];
    const len = rowLength(train, r);
    const held = new Uint8Array(len);
    if (isChosen[r]) {
      const perm = Int32Array.from({ length: len }, (_, j) => j);
      shuffleInPlace(perm, rng);
      perm.subarray(0, Math.max(1, Math.round(CARVE_HELD_OUT_SHARE * len))).forEach((j) => (held[j] = 1));
    }
    for (let j = 0; j < len; j++) {
      const c = train.indices[from + j];
      const val = train.values[from + j];
      if (held[j]) {
        heldRow.push(v);
        heldCol.push(c);
        heldVal.push(val);
      } else {
        keepRow.push(r);
        keepCol.push(c);
        keepVal.push(val);
        if (isChosen[r]) inRow.push(v, c, val);
      }
    }
    if (isChosen[r]) v++;
  }
  const inputRows = Int32Array.from({ length: inRow.length / 3 }, (_, k) => inRow[3 * k]);
  const inputCols = Int32Array.from({ length: inRow.length / 3 }, (_, k) => inRow[3 * k + 1]);
  const inputVals = Float32Array.from({ length: inRow.length / 3 }, (_, k) => inRow[3 * k + 2]);
  return {
    train: buildCsr(
      train.rows,
      train.cols,
      Int32Array.from(keepRow),
      Int32Array.from(keepCol),
      Float32Array.from(keepVal),
    ),
    validation: {
      input: buildCsr(v, train.cols, inputRows, inputCols, inputVals),
      heldOut: buildCsr(v, train.cols, Int32Array.from(heldRow), Int32Array.from(heldCol), Float32Array.from(heldVal)),
    },
  };
}
