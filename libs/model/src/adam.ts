import { DaeParams } from './dae-config';
import { AdamCoefficients, AdamKernel, AdamSlice, TransposedCopy } from './kernels/parameter-arena';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Coupled L2 on the weights (not the biases): the gradient gains weightDecay * w, as Liang et al. */
  weightDecay: number;
}

export const DEFAULT_ADAM: AdamOptions = {
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
};

/** Adam's moment estimates, shaped like the parameters (shared between threads when they are). */
export interface AdamState {
  m: DaeParams;
  v: DaeParams;
}

export function zerosLike(p: DaeParams, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): DaeParams {
  return { weights: p.weights.map((a) => alloc(a.length)), biases: p.biases.map((a) => alloc(a.length)) };
}

export function adamState(params: DaeParams, alloc?: (n: number) => Float32Array): AdamState {
  return { m: zerosLike(params, alloc), v: zerosLike(params, alloc) };
}

/** Which slice of the parameters a thread steps, and what makes it fast. */
export interface AdamStepWhere {
  part?: number;
  parts?: number;
  kernel?: AdamKernel | null;
  transposed?: readonly (Float32Array | undefined)[];
}

/**
 * One Adam step over slice `part` of `parts` of every parameter array, with the gradient summed over
 * `grads` (one per data-parallel shard). Each thread updates its own slice, so the step runs on
 * all cores. One pass per parameter, no intermediate tensors: in the wasm `kernel` when the arrays
 * live in its memory (the same bits, several times faster), else in the JS loops below.
 * `transposed[l]`, when given, is a copy of weights[l] transposed that the step keeps equal to it.
 */
export function adamStep(
  params: DaeParams,
  grads: readonly DaeParams[],
  state: AdamState,
  options: AdamOptions,
  step: number,
  where: AdamStepWhere = {},
): void {
  const { part = 0, parts = 1, kernel = null, transposed = [] } = where;
  const onWeights = adamCoefficients(options, step);
  const each = (kind: 'weights' | 'biases', c: AdamCoefficients) =>
    params[kind].forEach((w, l) => {
      const slice: AdamSlice = {
        w,
        grads: grads.map((g) => g[kind][l]),
        m: state.m[kind][l],
        v: state.v[kind][l],
        lo: Math.floor((w.length * part) / parts),
        hi: Math.floor((w.length * (part + 1)) / parts),
      };
      const copy =
        kind === 'weights' && transposed[l] ? { values: transposed[l], cols: params.biases[l].length } : undefined;
      if (kernel?.update(slice, c, copy)) return;
      update(slice, c);
      if (copy) transposeInto(w, copy, slice.lo, slice.hi);
    });
  each('weights', onWeights);
  each('biases', { ...onWeights, decay: 0 });
}

/** The numbers of step `step` (1-based) on the weights; the biases take them with no decay. */
export function adamCoefficients(options: AdamOptions, step: number): AdamCoefficients {
  const { learningRate, beta1: b1, beta2: b2, epsilon: eps, weightDecay: decay } = options;
  // bias correction folded into the step size (Kingma & Ba, section 2)
  const lr = (learningRate * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
  return { lr, b1, b2, c1: 1 - b1, c2: 1 - b2, eps, decay };
}

/** copy.values[j][r] = w[r][j] for the flat indices [lo, hi) of w. */
export function transposeInto(w: Float32Array, copy: TransposedCopy, lo = 0, hi = w.length): void {
  const { values, cols } = copy;
  const rows = w.length / cols;
  for (let k = lo; k < hi; k++) values[(k % cols) * rows + Math.floor(k / cols)] = w[k];
}

function update(s: AdamSlice, c: AdamCoefficients): void {
  // one loop per shard count: the general one (a loop over the shards per parameter) is 2x slower
  if (s.grads.length === 1) return update1(s, s.grads[0], c);
  if (s.grads.length === 2) return update2(s, s.grads[0], s.grads[1], c);
  const { w, grads, m, v, lo, hi } = s;
  const { lr, b1, b2, c1, c2, eps, decay } = c;
  for (let k = lo; k < hi; k++) {
    let grad = decay * w[k];
    for (let g = 0; g < grads.length; g++) grad += grads[g][k];
    const mk = b1 * m[k] + c1 * grad;
    const vk = b2 * v[k] + c2 * grad * grad;
    m[k] = mk;
    v[k] = vk;
    w[k] -= (lr * mk) / (Math.sqrt(vk) + eps);
  }
}

function update1({ w, m, v, lo, hi }: AdamSlice, g0: Float32Array, c: AdamCoefficients): void {
  const { lr, b1, b2, c1, c2, eps, decay } = c;
  for (let k = lo; k < hi; k++) {
    const grad = g0[k] + decay * w[k];
    const mk = b1 * m[k] + c1 * grad;
    const vk = b2 * v[k] + c2 * grad * grad;
    m[k] = mk;
    v[k] = vk;
    w[k] -= (lr * mk) / (Math.sqrt(vk) + eps);
  }
}

function update2({ w, m, v, lo, hi }: AdamSlice, g0: Float32Array, g1: Float32Array, c: AdamCoefficients): void {
  const { lr, b1, b2, c1, c2, eps, decay } = c;
  for (let k = lo; k < hi; k++) {
    const grad = g0[k] + g1[k] + decay * w[k];
    const mk = b1 * m[k] + c1 * grad;
    const vk = b2 * v[k] + c2 * grad * grad;
    m[k] = mk;
    v[k] = vk;
    w[k] -= (lr * mk) / (Math.sqrt(vk) + eps);
  }
}

/**
 * Polyak averaging: `ema` <- decay * `ema` + (1 - decay) * `params`, over slice `part` of `parts` of
 * every parameter array (each thread averages its own slice, like adamStep). The averaged weights
 * are what validation scores and what training returns when averaging is on.
 */
export function emaStep(ema: DaeParams, params: DaeParams, decay: number, part = 0, parts = 1): void {
  const c = 1 - decay;
  for (const kind of ['weights', 'biases'] as const) {
    params[kind].forEach((w, l) => {
      const e = ema[kind][l];
      const lo = Math.floor((w.length * part) / parts);
      const hi = Math.floor((w.length * (part + 1)) / parts);
      for (let k = lo; k < hi; k++) e[k] = decay * e[k] + c * w[k];
    });
  }
}

/**
 * The averaging decay at a step (1-based): `decay`, but smaller over the first steps so the average
 * is not dominated by the initial weights (the num_updates warm-up of TensorFlow's
 * ExponentialMovingAverage: min(decay, (1 + step) / (10 + step))).
 */
export function emaDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}
