import { Rng } from '@app/random';
import { adamCoefficients, AdamOptions } from './adam';
import { DaeConfig, DaeParams } from './dae-config';
import { TrainBatch } from './dae-gradients';
import { meanInOrder } from './eval/metrics';
import { lazyAdamRows } from './lazy-adam';
import { ItemsMajorParams, NegativeSampler, sampledGradients, SparseGradients } from './sampled-gradients';
import { ValidationSet, validationValues } from './validation-scoring';

/**
 * Training steps for large catalogues: per batch the output layer is computed for the batch's own
 * items and `samples` shared uniform negatives only (sampled-gradients.ts), and both item layers
 * take lazy Adam steps on the rows the batch touched, so an epoch costs interactions x width +
 * batches x samples x width instead of users x items x width. Only the biases of the hidden layer
 * take a dense step. One thread. The [I-d-I] shape only (hidden: []): with hidden layers the dense
 * middle would cost as much as the sampling saves, so create() refuses them with an error.
 */
export class SampledTrainer {
  private readonly p: ItemsMajorParams;
  private readonly m: ItemsMajorParams;
  private readonly v: ItemsMajorParams;
  private readonly grads: SparseGradients;
  private readonly sampler: NegativeSampler;
  private step = 0;

  /** Takes over `initial` (its weights[0] and biases are held as they are; weights[1] is transposed once). */
  constructor(
    private readonly config: DaeConfig,
    initial: DaeParams,
    private options: AdamOptions,
    samples: number,
    private readonly rng: Rng,
  ) {
    if (config.hidden.length > 0)
      throw new RangeError(
        `sampled training is for the [I-d-I] shape (hidden: []), not hidden [${config.hidden.join(', ')}]; ` +
          'train these with sampledNegatives 0 (the full output layer)',
      );
    if (!(Number.isInteger(samples) && samples > 0))
      throw new RangeError(`sampled negatives must be a positive integer, got ${samples}`);
    const { items, embeddingDim: width } = config;
    this.p = {
      items,
      width,
      w0: initial.weights[0],
      b0: initial.biases[0],
      w1: transpose(initial.weights[1], width, items),
      b1: initial.biases[1],
    };
    const zeros = (): ItemsMajorParams => ({
      items,
      width,
      w0: new Float32Array(items * width),
      b0: new Float32Array(width),
      w1: new Float32Array(items * width),
      b1: new Float32Array(items),
    });
    this.m = zeros();
    this.v = zeros();
    this.grads = new SparseGradients(items, width);
    this.sampler = new NegativeSampler(items, samples);
  }

  setLearningRate(learningRate: number): void {
    this.options = { ...this.options, learningRate };
  }

  /** Sampled gradients of the batch, then a lazy Adam step; returns the batch's summed sampled loss. */
  trainStep(batch: TrainBatch): number {
    this.step++;
    const { p, m, v, grads } = this;
    const negatives = this.sampler.draw(this.rng);
    const loss = sampledGradients(this.config, p, batch, negatives, this.sampler.scale, grads);
    const c = adamCoefficients(this.options, this.step);
    const onBiases = { ...c, decay: 0 };
    lazyAdamRows(p.w0, m.w0, v.w0, grads.g0, grads.slotItems, grads.count, p.width, c, grads.inInput);
    lazyAdamRows(p.w1, m.w1, v.w1, grads.g1, grads.slotItems, grads.count, p.width, c);
    lazyAdamRows(p.b1, m.b1, v.b1, grads.gb1, grads.slotItems, grads.count, 1, onBiases);
    lazyAdamRows(p.b0, m.b0, v.b0, grads.gb0, ZERO_ROW, 1, p.width, onBiases);
    return loss;
  }

  /**
   * The parameters as DaeParams: weights[1] transposed into a new array, the rest the live arrays
   * (clone before training on if they must stay).
   */
  params(): DaeParams {
    const { p } = this;
    return { weights: [p.w0, transpose(p.w1, p.items, p.width)], biases: [p.b0, p.b1] };
  }

  validationNdcg(validation: ValidationSet, k: number): number {
    return meanInOrder([validationValues(this.config, this.params(), validation, k)]);
  }

  /** The items-major arrays themselves, for tests. */
  get itemsMajor(): { params: ItemsMajorParams; m: ItemsMajorParams; v: ItemsMajorParams } {
    return { params: this.p, m: this.m, v: this.v };
  }
}

const ZERO_ROW = new Int32Array(1);

/** out = a transposed, for a row-major rows x cols `a`. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  // in tiles, so both sides stay in cache at 1M columns
  const T = 64;
  for (let r0 = 0; r0 < rows; r0 += T)
    for (let c0 = 0; c0 < cols; c0 += T) {
      const r1 = Math.min(rows, r0 + T);
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c];
    }
  return out;
}
