import * as tf from '@tensorflow/tfjs';
import { readInto } from './tensor-read';
import { DaeConfig, DaeParams, layerSizes } from './dae-config';
import { activate, activationGrad, sparseFirstLayer } from './dae-layers';

/**
 * One training batch (or a shard of one), in CSR form. `input` is the corrupted, normalised input
 * (0 where dropout removed an interaction); `target` is what the loss reconstructs.
 */
export interface TrainBatch {
  rows: number;
  indptr: Int32Array;
  indices: Int32Array;
  input: Float32Array;
  target: Float32Array;
  /**
   * Per-nonzero weight of the loss term (emphasized denoising: dropped interactions count more than
   * kept ones, which the network could copy through). Absent = 1 everywhere; non-interactions
   * (logistic loss) always weigh 1.
   */
  weight?: Float32Array;
  /** 1 / rows of the whole batch, so the shards' gradients add up to the batch mean. */
  scale: number;
}

/**
 * Forward and backward pass with hand-written gradients, written into `grads` (overwritten).
 * The first layer runs sparse in JS (nnz x width); the dense layers are explicit matMuls on the
 * tfjs backend. Returns the batch's summed loss (before scaling), without weight decay.
 *
 * Hand-written because on wasm the gradients of gather / sparse segment ops have no kernels,
 * and transposed matMuls are far slower than a transpose then a plain matMul.
 */
export function batchGradients(config: DaeConfig, params: DaeParams, batch: TrainBatch, grads: DaeParams): number {
  return shardGradients(config, params, [batch], [grads]);
}

/**
 * batchGradients for several shards of a batch on one thread, shard s into grads[s]; returns the
 * summed loss. The dense layers' weight tensors (and their transposes) are made once for all the
 * shards, so two shards on one thread cost little more than one; each shard's gradient is the
 * same, bit for bit, as when another thread computes it. `transposed[l]`, when given, holds
 * weights[l] transposed already (adamStep keeps it so), which saves transposing it here.
 */
export function shardGradients(
  config: DaeConfig,
  params: DaeParams,
  shards: readonly TrainBatch[],
  grads: readonly DaeParams[],
  transposed: readonly (Float32Array | undefined)[] = [],
): number {
  const weights = new StepWeights(config, params, transposed);
  try {
    let loss = 0;
    shards.forEach((shard, s) => (loss += shardGradient(config, params, weights, shard, grads[s])));
    return loss;
  } finally {
    weights.dispose();
  }
}

/** A step's dense-layer weights as tensors, each transposed at most once, whatever the shard count. */
class StepWeights {
  private readonly w: tf.Tensor2D[] = [];
  private readonly wT: tf.Tensor2D[] = [];

  constructor(
    config: DaeConfig,
    params: DaeParams,
    private readonly copies: readonly (Float32Array | undefined)[],
  ) {
    const sizes = layerSizes(config);
    for (let l = 1; l < sizes.length - 1; l++) this.w[l] = tf.tensor2d(params.weights[l], [sizes[l], sizes[l + 1]]);
  }

  /** x w for layer l. */
  times(x: tf.Tensor2D, l: number): tf.Tensor2D {
    return timesWeights(x, this.w[l], () => this.transposed(l));
  }

  /** g wᵀ for layer l. */
  timesTransposed(g: tf.Tensor2D, l: number): tf.Tensor2D {
    return timesWeightsTransposed(g, this.w[l], () => this.transposed(l));
  }

  dispose(): void {
    tf.dispose([...this.w.filter(Boolean), ...this.wT.filter(Boolean)]);
  }

  private transposed(l: number): tf.Tensor2D {
    // kept out of the calling tidy: the next shard uses it too
    const [rows, cols] = this.w[l].shape;
    const copy = this.copies[l];
    this.wT[l] ??= tf.keep(copy ? tf.tensor2d(copy, [cols, rows]) : tf.transpose(this.w[l]));
    return this.wT[l];
  }
}

function shardGradient(
  config: DaeConfig,
  params: DaeParams,
  weights: StepWeights,
  batch: TrainBatch,
  grads: DaeParams,
): number {
  const sizes = layerSizes(config);
  const layers = sizes.length - 1;
  const { rows } = batch;
  const pre0 = sparseFirstLayer(rows, batch.indptr, batch.indices, batch.input, params.weights[0], params.biases[0]);

  let loss = 0;
  const g0 = tf.tidy(() => {
    // forward: keep every layer's output for the backward pass
    const acts: tf.Tensor2D[] = [activate(tf.tensor2d(pre0, [rows, sizes[1]]), config.activation) as tf.Tensor2D];
    for (let l = 1; l < layers; l++) {
      const z = tf.add<tf.Tensor2D>(weights.times(acts[l - 1], l), tf.tensor1d(params.biases[l]));
      acts.push(l === layers - 1 ? z : (activate(z, config.activation) as tf.Tensor2D));
    }
    const out = outputGradient(acts[layers - 1], batch, config);
    loss = out.loss;

    // backward through the dense layers
    let g = out.grad;
    for (let l = layers - 1; l >= 1; l--) {
      const h = acts[l - 1];
      readInto(tf.matMul(tf.transpose(h), g), grads.weights[l]);
      readInto(tf.sum(g, 0), grads.biases[l]);
      const dh = weights.timesTransposed(g, l);
      g = tf.mul<tf.Tensor2D>(dh, activationGrad(h, config.activation));
    }
    return g;
  });
  const g0Data = g0.dataSync() as Float32Array;
  g0.dispose();
  sparseFirstLayerGrad(batch, g0Data, grads.weights[0], grads.biases[0]);
  return loss;
}

/**
 * A step's weights are a new tensor each time, and XNNPACK (the wasm matMul) packs the right-hand
 * operand of a product anew for each new tensor: 15-20 ms for a 600 x 5,700 layer, more than the
 * product itself at 50 rows. The left-hand operand it reads as is. So a layer whose weights outweigh
 * the transposes of the activations goes on the left, (wᵀ xᵀ)ᵀ: ML-latest-small's output layer in
 * 19 ms instead of 28 forward and 14 instead of 36 backward (half batch of 50 rows).
 */
export function weightsOnLeft(rows: number, w: tf.Tensor2D): boolean {
  const [inputs, outputs] = w.shape;
  return (inputs * outputs) / (inputs + outputs) > 2 * rows;
}

/** x w for a layer's weights w (inputs x outputs); `transposed` gives wᵀ when it is needed. */
export function timesWeights(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  transposed: () => tf.Tensor2D = () => tf.transpose(w),
): tf.Tensor2D {
  return weightsOnLeft(x.shape[0], w) ? tf.transpose(tf.matMul(transposed(), tf.transpose(x))) : tf.matMul(x, w);
}

/** g wᵀ: the gradient back through a layer's weights w (inputs x outputs). */
export function timesWeightsTransposed(
  g: tf.Tensor2D,
  w: tf.Tensor2D,
  transposed: () => tf.Tensor2D = () => tf.transpose(w),
): tf.Tensor2D {
  return weightsOnLeft(g.shape[0], w) ? tf.transpose(tf.matMul(w, tf.transpose(g))) : tf.matMul(g, transposed());
}

/**
 * d loss / d logits for the batch, and the summed loss. The probabilities come from one fused
 * kernel (softmax or sigmoid); the rest runs in JS over the block, touching the targets only at
 * the nonzeros, which beats a chain of elementwise tfjs ops on a dense target block.
 */
function outputGradient(
  logits: tf.Tensor2D,
  batch: TrainBatch,
  config: DaeConfig,
): { grad: tf.Tensor2D; loss: number } {
  const items = config.items;
  const probs = (config.loss === 'multinomial' ? tf.softmax(logits) : tf.sigmoid(logits)).dataSync() as Float32Array;
  const grad = new Float32Array(probs.length);
  const weight = batch.weight;
  let loss = 0;
  for (let r = 0; r < batch.rows; r++) {
    const o = r * items;
    const from = batch.indptr[r];
    const to = batch.indptr[r + 1];
    if (config.loss === 'multinomial') {
      // -sum_i w_i t_i log p_i; gradient p * sum(w t) - w t
      let n = 0;
      for (let k = from; k < to; k++) n += (weight ? weight[k] : 1) * batch.target[k];
      const pScale = n * batch.scale;
      for (let i = 0; i < items; i++) grad[o + i] = probs[o + i] * pScale;
      for (let k = from; k < to; k++) {
        const i = o + batch.indices[k];
        const t = (weight ? weight[k] : 1) * batch.target[k];
        grad[i] -= t * batch.scale;
        loss -= t * Math.log(Math.max(probs[i], MIN_PROBABILITY));
      }
    } else {
      // sigmoid cross-entropy, w * -(t log s + (1 - t) log(1 - s)), gradient w (s - t); first every
      // item as a non-interaction (t = 0, w = 1), then the nonzeros corrected to their t and w
      for (let i = 0; i < items; i++) {
        grad[o + i] = probs[o + i] * batch.scale;
        loss -= Math.log(Math.max(1 - probs[o + i], MIN_PROBABILITY));
      }
      for (let k = from; k < to; k++) {
        const i = o + batch.indices[k];
        const t = batch.target[k];
        const w = weight ? weight[k] : 1;
        const s = probs[i];
        grad[i] += ((w - 1) * s - w * t) * batch.scale;
        loss +=
          (1 - w * (1 - t)) * Math.log(Math.max(1 - s, MIN_PROBABILITY)) -
          w * t * Math.log(Math.max(s, MIN_PROBABILITY));
      }
    }
  }
  return { grad: tf.tensor2d(grad, [batch.rows, items]), loss };
}

/** Floor for log(p) so a float32 underflow gives a large finite loss, not Infinity. */
const MIN_PROBABILITY = 1e-30;

/** dW0 = X^T g0 over the nonzeros only; db0 = column sums of g0. */
function sparseFirstLayerGrad(batch: TrainBatch, g0: Float32Array, dw0: Float32Array, db0: Float32Array): void {
  const width = db0.length;
  dw0.fill(0);
  db0.fill(0);
  for (let r = 0; r < batch.rows; r++) {
    const o = r * width;
    for (let j = 0; j < width; j++) db0[j] += g0[o + j];
    let pending = -1;
    for (let k = batch.indptr[r]; k < batch.indptr[r + 1]; k++) {
      if (batch.input[k] === 0) continue; // dropped: no gradient
      if (pending < 0) {
        pending = k;
        continue;
      }
      // two nonzeros per pass share the loads of g0's row
      const [va, vb] = [batch.input[pending], batch.input[k]];
      const [a, b] = [batch.indices[pending] * width, batch.indices[k] * width];
      for (let j = 0; j < width; j++) {
        const g = g0[o + j];
        dw0[a + j] += va * g;
        dw0[b + j] += vb * g;
      }
      pending = -1;
    }
    if (pending >= 0) {
      const v = batch.input[pending];
      const w = batch.indices[pending] * width;
      for (let j = 0; j < width; j++) dw0[w + j] += v * g0[o + j];
    }
  }
}
