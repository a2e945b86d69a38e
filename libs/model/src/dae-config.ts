import { createRng } from '@app/random';

// The autoencoder's shape and parameters as plain data: what training writes, serialisation
// stores and DaeModel reads.

export type Activation = 'tanh' | 'relu' | 'sigmoid' | 'linear';
/** multinomial: log-softmax over all items (Mult-DAE); logistic: per-item sigmoid cross-entropy (CDAE). */
export type DaeLoss = 'multinomial' | 'logistic';
/** binary: every interaction counts 1; weighted: the interaction's weight. */
export type DaeInput = 'binary' | 'weighted';

export interface DaeConfig {
  items: number;
  /** Encoder widths between the input and the embedding; the decoder mirrors them. */
  hidden: number[];
  /** Width of the bottleneck, the user embedding. */
  embeddingDim: number;
  activation: Activation;
  loss: DaeLoss;
  input: DaeInput;
}

/**
 * The one default shape, for evaluation, retrains and scheduled retrains alike: [I-d-I] (no hidden
 * layer), tanh, the logistic loss (CDAE's per-item sigmoid cross-entropy). Chosen on validation users
 * of the generalisation suite (docs/evaluation.md): Liang et al.'s [I-600-200-600-I] multinomial
 * Mult-DAE read 15-20% lower there on the sparse sets.
 */
export const DEFAULT_DAE_CONFIG: Omit<DaeConfig, 'items'> = {
  hidden: [],
  embeddingDim: 600,
  activation: 'tanh',
  loss: 'logistic',
  input: 'binary',
};

/** weights[l] is a row-major (in x out) matrix, biases[l] has out entries. */
export interface DaeParams {
  weights: Float32Array[];
  biases: Float32Array[];
}

/** [I, ...hidden, embedding, ...hidden reversed, I]. */
export function layerSizes(config: DaeConfig): number[] {
  return [config.items, ...config.hidden, config.embeddingDim, ...[...config.hidden].reverse(), config.items];
}

/** Float count of every parameter array, weights then biases, as DaeParams holds them. */
export function parameterLengths(config: DaeConfig): number[] {
  const sizes = layerSizes(config);
  const layers = sizes.slice(1).map((out, l) => [sizes[l] * out, out]);
  return [...layers.map(([w]) => w), ...layers.map(([, b]) => b)];
}

/** Index of the layer whose activation is the user embedding. */
export function embeddingLayer(config: DaeConfig): number {
  return config.hidden.length;
}

/** Glorot-uniform weights and near-zero normal biases (as Liang et al.), from the seed. */
export function initParams(
  config: DaeConfig,
  seed: number,
  alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
): DaeParams {
  const rng = createRng(seed);
  const sizes = layerSizes(config);
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const w = alloc(fanIn * fanOut);
    for (let k = 0; k < w.length; k++) w[k] = (2 * rng.next() - 1) * limit;
    const b = alloc(fanOut);
    for (let k = 0; k < b.length; k++) b[k] = 0.001 * rng.normal();
    weights.push(w);
    biases.push(b);
  }
  return { weights, biases };
}

export function cloneParams(p: DaeParams, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): DaeParams {
  const copy = (a: Float32Array) => {
    const out = alloc(a.length);
    out.set(a);
    return out;
  };
  return { weights: p.weights.map(copy), biases: p.biases.map(copy) };
}
