import { createRng, Rng } from '@app/random';
import { DaeConfig, DaeLoss } from './dae-config';
import { CsrMatrix } from './interaction-matrix';
import { trainDae, TrainDaeOptions } from './train-dae';
import { ValidationSet } from './validation-scoring';

/** What tuning chooses; everything else stays as the caller set it. */
export interface TunedSettings {
  hidden: number[];
  embeddingDim: number;
  loss: DaeLoss;
  dropout: number;
  learningRate: number;
  weightDecay: number;
}

export interface TuneSpace {
  hidden: number[][];
  embeddingDim: number[];
  loss: DaeLoss[];
  dropout: number[];
  learningRate: number[];
  weightDecay: number[];
}

/** Around the defaults, wide enough for sparse catalogues (more dropout, decay) and dense ones. */
export const DEFAULT_TUNE_SPACE: TuneSpace = {
  hidden: [[], [600]],
  embeddingDim: [200, 400, 600, 1000],
  loss: ['logistic', 'multinomial'],
  dropout: [0.2, 0.35, 0.5, 0.65, 0.8],
  learningRate: [1e-3, 3e-3, 1e-2],
  weightDecay: [0, 1e-4, 1e-3, 1e-2],
};

/** The space with the given settings fixed: a search then chooses only the others. */
export function fixedIn(space: TuneSpace, fixed: Partial<TunedSettings>): TuneSpace {
  const out = { ...space };
  for (const key of Object.keys(space) as (keyof TuneSpace)[]) {
    const value = fixed[key];
    if (value !== undefined) (out[key] as unknown[]) = [value];
  }
  return out;
}

export interface TuneTrial {
  candidate: number;
  rung: number;
  epochs: number;
  settings: TunedSettings;
  /** Best validation NDCG@validationK within the rung's epochs. */
  ndcg: number;
  bestEpoch: number;
  seconds: number;
}

export interface TuneResult {
  settings: TunedSettings;
  budgetSeconds: number;
  seconds: number;
  /** Candidates drawn (the first is the caller's settings); 1 when the budget held no search. */
  candidates: number;
  trials: TuneTrial[];
}

export interface TuneOptions {
  budgetSeconds: number;
  space?: TuneSpace;
  /** Epochs of the first rung; the second trains the best third for three times as many. */
  firstRungEpochs?: number;
  /** Candidates to draw, instead of as many as the budget holds (the budget still stops the search). */
  candidates?: number;
  onTrial?: (trial: TuneTrial) => void | Promise<void>;
}

/** Successive halving keeps the best 1/ETA of each rung and gives them ETA times the epochs. */
const ETA = 3;
const RUNGS = 3;
const MAX_CANDIDATES = ETA ** RUNGS;

/**
 * Chooses the DAE's settings on the validation users within a time budget, by successive halving
 * (Jamieson & Talwalkar 2016, Hyperband's inner loop): n candidates (the caller's settings first,
 * then seeded draws from the space) train a few epochs, the best third trains three times longer,
 * and the best third of those trains to convergence beside the caller's settings. n is what the budget holds, from the seconds an epoch of the caller's
 * settings took and each candidate's parameter count. Only `validation` is scored: the caller keeps
 * its test users out of it. The caller then trains the returned settings to convergence.
 */
export async function tuneDae(
  train: CsrMatrix,
  validation: ValidationSet,
  base: { config: Omit<DaeConfig, 'items'>; options: TrainDaeOptions },
  tune: TuneOptions,
): Promise<TuneResult> {
  if (!(tune.budgetSeconds > 0)) throw new RangeError(`budgetSeconds must be positive, got ${tune.budgetSeconds}`);
  const space = tune.space ?? DEFAULT_TUNE_SPACE;
  const r0 = tune.firstRungEpochs ?? 5;
  const started = performance.now();
  const spent = () => (performance.now() - started) / 1000;
  const trials: TuneTrial[] = [];
  const baseSettings: TunedSettings = {
    hidden: base.config.hidden,
    embeddingDim: base.config.embeddingDim,
    loss: base.config.loss,
    dropout: base.options.dropout,
    learningRate: base.options.learningRate,
    weightDecay: base.options.weightDecay,
  };

  const run = async (
    candidate: number,
    rung: number,
    settings: TunedSettings,
  ): Promise<TuneTrial & { trainSeconds: number; epochsRun: number }> => {
    // the last rung trains to convergence, as the caller will: epochs and patience are the caller's
    const final = rung === RUNGS - 1;
    const epochs = final ? base.options.epochs : r0 * ETA ** rung;
    const t0 = performance.now();
    const result = await trainDae(train, withSettings(base.config, settings), {
      ...base.options,
      ...trainSettings(settings),
      epochs,
      patience: final ? base.options.patience : Math.min(base.options.patience || epochs, epochs),
      validation,
      refit: false,
      onEpoch: undefined,
    });
    result.model.dispose();
    const trial = {
      candidate,
      rung,
      epochs,
      settings,
      ndcg: result.bestNdcg ?? 0,
      bestEpoch: result.bestEpoch,
      seconds: (performance.now() - t0) / 1000,
    };
    trials.push(trial);
    await tune.onTrial?.(trial);
    return {
      ...trial,
      trainSeconds: result.history.reduce((sum, e) => sum + e.seconds, 0),
      epochsRun: result.history.length,
    };
  };

  // the caller's settings, first rung: its time per epoch sizes the search
  const probe = await run(0, 0, baseSettings);
  // per epoch of training, not of the trial: start-up (threads, backend) would shrink the search
  const secondsPerEpoch = probe.trainSeconds / Math.max(1, probe.epochsRun);
  const cost = (s: TunedSettings) => parameterCount(train.cols, s) / parameterCount(train.cols, baseSettings);
  // a candidate costs r0 epochs per rung it reaches; with a third surviving each rung, RUNGS * r0 in all
  const meanCost = meanDrawCost(space, train.cols, cost);
  const fits = Math.floor(tune.budgetSeconds / (RUNGS * r0 * secondsPerEpoch * meanCost));
  const n = tune.candidates ?? Math.max(1, Math.min(MAX_CANDIDATES, fits));
  const candidates = [
    baseSettings,
    ...drawSettings(space, n - 1, train.cols, createRng(base.options.seed + 31), baseSettings),
  ];

  let rung: { candidate: number; trial: TuneTrial }[] = [{ candidate: 0, trial: probe }];
  for (let c = 1; c < candidates.length; c++) {
    if (spent() + secondsPerEpoch * r0 * cost(candidates[c]) > tune.budgetSeconds) break;
    rung.push({ candidate: c, trial: await run(c, 0, candidates[c]) });
  }
  const topThird = (r: typeof rung) =>
    [...r].sort((a, b) => b.trial.ndcg - a.trial.ndcg).slice(0, Math.max(1, Math.floor(r.length / ETA)));
  const estimate = (candidate: number, level: number) =>
    secondsPerEpoch * r0 * ETA ** level * cost(candidates[candidate]);
  for (let level = 1; level < RUNGS - 1 && rung.length > 1; level++) {
    const next: typeof rung = [];
    for (const { candidate } of topThird(rung)) {
      if (spent() + estimate(candidate, level) > tune.budgetSeconds) break;
      next.push({ candidate, trial: await run(candidate, level, candidates[candidate]) });
    }
    if (!next.length) break;
    rung = next;
  }
  // Short rungs favour fast starters, and the defaults start slowly (logistic loss, Adam 3e-3): the
  // last rung trains the survivors and the caller's settings to convergence, and only converged
  // scores are compared. A budget that cannot reach it keeps the caller's settings.
  const finalists = [
    0,
    ...topThird(rung)
      .map((r) => r.candidate)
      .filter((c) => c !== 0),
  ];
  const finals: typeof rung = [];
  for (const candidate of finalists) {
    if (spent() + estimate(candidate, RUNGS - 1) > tune.budgetSeconds) break;
    finals.push({ candidate, trial: await run(candidate, RUNGS - 1, candidates[candidate]) });
  }
  const best = finals.length ? finals.reduce((a, b) => (b.trial.ndcg > a.trial.ndcg ? b : a)) : { candidate: 0 };
  return {
    settings: candidates[best.candidate],
    budgetSeconds: tune.budgetSeconds,
    seconds: +spent().toFixed(1),
    candidates: candidates.length,
    trials,
  };
}

/** Weights of the [I, ...hidden, d, ...hidden reversed, I] network: what an epoch's time scales with. */
function parameterCount(items: number, s: Pick<TunedSettings, 'hidden' | 'embeddingDim'>): number {
  const sizes = [items, ...s.hidden, s.embeddingDim, ...[...s.hidden].reverse(), items];
  let total = 0;
  for (let l = 0; l + 1 < sizes.length; l++) total += sizes[l] * sizes[l + 1];
  return total;
}

function meanDrawCost(space: TuneSpace, items: number, cost: (s: TunedSettings) => number): number {
  let total = 0;
  let n = 0;
  for (const hidden of space.hidden) {
    for (const embeddingDim of usableDims(space, items)) {
      total += cost({ hidden, embeddingDim, loss: 'logistic', dropout: 0, learningRate: 0, weightDecay: 0 });
      n++;
    }
  }
  return n ? total / n : 1;
}

/** A bottleneck as wide as the catalogue is no bottleneck: wider choices are left out. */
function usableDims(space: TuneSpace, items: number): number[] {
  if (space.embeddingDim.length === 1) return space.embeddingDim;
  const dims = space.embeddingDim.filter((d) => d < items);
  return dims.length ? dims : [Math.max(2, Math.floor(items / 2))];
}

/** `count` distinct seeded draws from the space, none equal to `exclude`. */
function drawSettings(
  space: TuneSpace,
  count: number,
  items: number,
  rng: Rng,
  exclude: TunedSettings,
): TunedSettings[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)];
  const seen = new Set([JSON.stringify(exclude)]);
  const out: TunedSettings[] = [];
  const dims = usableDims(space, items);
  for (let tries = 0; out.length < count && tries < count * 20; tries++) {
    const s: TunedSettings = {
      hidden: pick(space.hidden),
      embeddingDim: pick(dims),
      loss: pick(space.loss),
      dropout: pick(space.dropout),
      learningRate: pick(space.learningRate),
      weightDecay: pick(space.weightDecay),
    };
    const key = JSON.stringify(s);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}

/** The shape half of tuned settings over a config. */
export function withSettings<C extends Omit<DaeConfig, 'items'>>(config: C, s: TunedSettings): C {
  return { ...config, hidden: s.hidden, embeddingDim: s.embeddingDim, loss: s.loss };
}

/** The training half of tuned settings, to spread over training options. */
export function trainSettings(s: TunedSettings): Pick<TrainDaeOptions, 'dropout' | 'learningRate' | 'weightDecay'> {
  return { dropout: s.dropout, learningRate: s.learningRate, weightDecay: s.weightDecay };
}
