import * as tf from '@tensorflow/tfjs';
import { Rng } from '@app/random';
import { Activation, DaeConfig } from './dae-config';
import { TrainBatch } from './dae-gradients';
import { sparseFirstLayer } from './dae-layers';

/**
 * An [I-d-I] autoencoder's parameters as sampled training holds them: both item layers items-major
 * (row i of `w0` and of `w1` is item i's `width` floats, contiguous), so a batch reads and steps
 * only its items' rows. `w0` is DaeParams' weights[0] as is; `w1` is weights[1] transposed.
 */
export interface ItemsMajorParams {
  items: number;
  width: number;
  w0: Float32Array;
  b0: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
}

/**
 * A batch's gradient, row-sparse: slot s holds the gradient rows of item `slotItems[s]` (the
 * batch's positives and the sampled negatives, each once). `g0` rows count only where `inInput[s]`
 * (the item was in some user's corrupted input); `g1` and `gb1` rows count for every slot.
 */
export class SparseGradients {
  slotItems = new Int32Array(0);
  count = 0;
  g0 = new Float32Array(0);
  inInput = new Uint8Array(0);
  g1 = new Float32Array(0);
  gb1 = new Float32Array(0);
  readonly gb0: Float32Array;
  /** item -> slot, -1 between batches. */
  private readonly slotOf: Int32Array;
  /** item -> the last user (stamp) that has it, for telling a user's own items among the negatives. */
  private readonly mark: Int32Array;
  private stamp = 0;

  constructor(
    readonly items: number,
    readonly width: number,
  ) {
    this.gb0 = new Float32Array(width);
    this.slotOf = new Int32Array(items).fill(-1);
    this.mark = new Int32Array(items);
  }

  /** Marks indices[from, to) as the current user's items (and unmarks the previous user's). */
  markUser(indices: Int32Array, from: number, to: number): void {
    this.stamp++;
    for (let k = from; k < to; k++) this.mark[indices[k]] = this.stamp;
  }

  isMarked(item: number): boolean {
    return this.mark[item] === this.stamp;
  }

  /** Slots for the batch's items then the negatives, zeroed. */
  reset(batch: TrainBatch, negatives: Int32Array): void {
    for (let s = 0; s < this.count; s++) this.slotOf[this.slotItems[s]] = -1;
    const most = batch.indices.length + negatives.length;
    if (this.slotItems.length < most) {
      this.slotItems = new Int32Array(most);
      this.inInput = new Uint8Array(most);
      this.gb1 = new Float32Array(most);
      this.g0 = new Float32Array(most * this.width);
      this.g1 = new Float32Array(most * this.width);
    }
    this.count = 0;
    for (const list of [batch.indices, negatives])
      for (let k = 0; k < list.length; k++) {
        const i = list[k];
        if (this.slotOf[i] >= 0) continue;
        this.slotOf[i] = this.count;
        this.slotItems[this.count++] = i;
      }
    this.g0.fill(0, 0, this.count * this.width);
    this.g1.fill(0, 0, this.count * this.width);
    this.gb1.fill(0, 0, this.count);
    this.inInput.fill(0, 0, this.count);
    this.gb0.fill(0);
  }

  slot(item: number): number {
    return this.slotOf[item];
  }
}

/**
 * Shared negatives per batch: `count` distinct items drawn uniformly without replacement (a partial
 * Fisher-Yates shuffle of a standing permutation, so O(count) per draw). Uniform, not by popularity:
 * its correction is one constant, and with count = items the sample is the whole catalogue, where
 * the sampled loss is the full one exactly.
 */
export class NegativeSampler {
  private readonly perm: Int32Array;

  constructor(
    readonly items: number,
    readonly count: number,
  ) {
    this.perm = Int32Array.from({ length: items }, (_, i) => i);
  }

  /** items / count: each item's inverse inclusion probability. */
  get scale(): number {
    return this.items / Math.min(this.count, this.items);
  }

  draw(rng: Rng): Int32Array {
    const { perm, items } = this;
    if (this.count >= items) return perm;
    for (let i = 0; i < this.count; i++) {
      const j = i + Math.floor(rng.next() * (items - i));
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    return perm.subarray(0, this.count);
  }
}

/**
 * Forward and backward pass of an [I-d-I] DAE on the batch's own items and the shared `negatives`,
 * written into `grads`; returns the batch's summed sampled loss (before the batch scale), an
 * unbiased estimate of the full loss:
 * - logistic: each user's own items exactly; the non-interaction terms over all other items
 *   estimated by the sampled ones that are not the user's, times `negScale` = items / samples.
 * - multinomial: a sampled softmax over the user's items and the negatives that are not the user's,
 *   the negatives' logits + log(negScale) (the logQ correction for uniform sampling, q = 1/negScale),
 *   so the normaliser estimates the full one.
 * With every item sampled (negScale 1) both equal the full losses of dae-gradients.ts.
 *
 * The per-nonzero work (first layer, the users' own items) is plain JS over typed arrays: tfjs has
 * no sparse kernels for it (its gather's gradient has none on wasm). The dense block, batch x
 * negatives, is three tfjs matMuls on the gathered negatives' rows (NegativeBlock): an epoch of
 * 20,000 users at 20,000 items took about 57 CPU seconds with it in JS loops, 16 with the matMuls.
 */
export function sampledGradients(
  config: DaeConfig,
  p: ItemsMajorParams,
  batch: TrainBatch,
  negatives: Int32Array,
  negScale: number,
  grads: SparseGradients,
): number {
  const { width: d } = p;
  const { rows, indptr, indices, target, weight, scale } = batch;
  grads.reset(batch, negatives);
  const h = sparseFirstLayer(rows, indptr, indices, batch.input, p.w0, p.b0);
  activateInPlace(h, config.activation);
  const S = negatives.length;
  const block = new NegativeBlock(p, negatives, h, rows);
  const zAll = block.logits();
  const dzAll = new Float32Array(rows * S);
  const dh = new Float32Array(rows * d);
  const own = new Uint8Array(S);
  const logScale = Math.log(negScale);
  const multinomial = config.loss === 'multinomial';
  let loss = 0;

  for (let r = 0; r < rows; r++) {
    const ho = r * d;
    const from = indptr[r];
    const to = indptr[r + 1];
    const zp = new Float64Array(to - from);
    for (let k = from; k < to; k++) zp[k - from] = logit(p, h, ho, indices[k]);
    // a negative that is one of the user's own items is counted among its positives already
    grads.markUser(indices, from, to);
    for (let j = 0; j < S; j++) own[j] = grads.isMarked(negatives[j]) ? 1 : 0;
    const zn = zAll.subarray(r * S, (r + 1) * S);

    const dzp = new Float64Array(to - from);
    const dzn = dzAll.subarray(r * S, (r + 1) * S);
    if (multinomial) {
      let max = -Infinity;
      for (const z of zp) max = Math.max(max, z);
      for (let j = 0; j < S; j++) if (!own[j]) max = Math.max(max, zn[j] + logScale);
      let sum = 0;
      for (const z of zp) sum += Math.exp(z - max);
      for (let j = 0; j < S; j++) if (!own[j]) sum += Math.exp(zn[j] + logScale - max);
      const logZ = max + Math.log(sum);
      let n = 0;
      for (let k = from; k < to; k++) n += (weight ? weight[k] : 1) * target[k];
      for (let k = from; k < to; k++) {
        const t = (weight ? weight[k] : 1) * target[k];
        const z = zp[k - from];
        loss -= t * (z - logZ);
        dzp[k - from] = n * Math.exp(z - logZ) - t;
      }
      for (let j = 0; j < S; j++) if (!own[j]) dzn[j] = n * Math.exp(zn[j] + logScale - logZ);
    } else {
      // sigmoid cross-entropy w * -(t log s + (1 - t) log(1 - s)) = w * (softplus(z) - t z)
      for (let k = from; k < to; k++) {
        const z = zp[k - from];
        const t = target[k];
        const w = weight ? weight[k] : 1;
        loss += w * (softplus(z) - t * z);
        dzp[k - from] = w * (sigmoid(z) - t);
      }
      for (let j = 0; j < S; j++) {
        if (own[j]) continue;
        loss += negScale * softplus(zn[j]);
        dzn[j] = negScale * sigmoid(zn[j]);
      }
    }
    for (let k = from; k < to; k++) backOutput(p, grads, h, dh, ho, indices[k], dzp[k - from] * scale);
    for (let j = 0; j < S; j++) dzn[j] *= scale;
  }
  block.backward(dzAll, dh, grads);

  // back through the activation and the sparse first layer
  for (let r = 0; r < rows; r++) {
    const ho = r * d;
    for (let j = 0; j < d; j++) {
      dh[ho + j] *= activationSlope(h[ho + j], config.activation);
      grads.gb0[j] += dh[ho + j];
    }
    for (let k = indptr[r]; k < indptr[r + 1]; k++) {
      const x = batch.input[k];
      if (x === 0) continue; // dropped by the corruption: no gradient, the row does not move
      const s = grads.slot(indices[k]);
      grads.inInput[s] = 1;
      const go = s * d;
      for (let j = 0; j < d; j++) grads.g0[go + j] += x * dh[ho + j];
    }
  }
  return loss;
}

/**
 * The batch x negatives block of the output layer as tfjs matMuls, each a plain product (the
 * transposes are built in JS while gathering: transposed matMuls are slow on wasm, see
 * dae-gradients.ts).
 */
class NegativeBlock {
  private readonly rowsOf: Float32Array;
  private readonly rowsT: Float32Array;

  constructor(
    private readonly p: ItemsMajorParams,
    private readonly negatives: Int32Array,
    private readonly h: Float32Array,
    private readonly users: number,
  ) {
    const { width: d, w1 } = p;
    const S = negatives.length;
    // the negatives' output rows, S x d, and transposed, d x S
    this.rowsOf = new Float32Array(S * d);
    this.rowsT = new Float32Array(d * S);
    for (let j = 0; j < S; j++) {
      const from = negatives[j] * d;
      this.rowsOf.set(w1.subarray(from, from + d), j * d);
      for (let c = 0; c < d; c++) this.rowsT[c * S + j] = w1[from + c];
    }
  }

  /** users x S logits, the negatives' biases added. */
  logits(): Float32Array {
    const { p, negatives, users } = this;
    const S = negatives.length;
    // read outside tidy: tidy walks what it returns, element by element for a typed array
    const z = readAndDispose(
      tf.tidy(() => tf.matMul(tf.tensor2d(this.h, [users, p.width]), tf.tensor2d(this.rowsT, [p.width, S]))),
    );
    for (let r = 0; r < users; r++) for (let j = 0; j < S; j++) z[r * S + j] += p.b1[negatives[j]];
    return z;
  }

  /** dz (users x S, scaled) into dh (+= dz W), the negatives' output rows (+= dzᵀ h) and biases. */
  backward(dz: Float32Array, dh: Float32Array, grads: SparseGradients): void {
    const { p, negatives, users } = this;
    const S = negatives.length;
    const d = p.width;
    const dzT = new Float32Array(S * users);
    for (let r = 0; r < users; r++) for (let j = 0; j < S; j++) dzT[j * users + r] = dz[r * S + j];
    const dhNeg = readAndDispose(
      tf.tidy(() => tf.matMul(tf.tensor2d(dz, [users, S]), tf.tensor2d(this.rowsOf, [S, d]))),
    );
    const dRows = readAndDispose(
      tf.tidy(() => tf.matMul(tf.tensor2d(dzT, [S, users]), tf.tensor2d(this.h, [users, d]))),
    );
    for (let k = 0; k < dh.length; k++) dh[k] += dhNeg[k];
    for (let j = 0; j < S; j++) {
      const s = grads.slot(negatives[j]);
      const go = s * d;
      let bias = 0;
      for (let r = 0; r < users; r++) bias += dzT[j * users + r];
      grads.gb1[s] += bias;
      for (let c = 0; c < d; c++) grads.g1[go + c] += dRows[j * d + c];
    }
  }
}

function readAndDispose(t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

function logit(p: ItemsMajorParams, h: Float32Array, ho: number, item: number): number {
  const d = p.width;
  const wo = item * d;
  let z = p.b1[item];
  for (let j = 0; j < d; j++) z += h[ho + j] * p.w1[wo + j];
  return z;
}

/** dz into the output row's gradient and back into the user's hidden gradient. */
function backOutput(
  p: ItemsMajorParams,
  grads: SparseGradients,
  h: Float32Array,
  dh: Float32Array,
  ho: number,
  item: number,
  dz: number,
): void {
  if (dz === 0) return;
  const d = p.width;
  const wo = item * d;
  const s = grads.slot(item);
  const go = s * d;
  grads.gb1[s] += dz;
  for (let j = 0; j < d; j++) {
    dh[ho + j] += dz * p.w1[wo + j];
    grads.g1[go + j] += dz * h[ho + j];
  }
}

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function activateInPlace(x: Float32Array, activation: Activation): void {
  if (activation === 'linear') return;
  for (let k = 0; k < x.length; k++) {
    const v = x[k];
    x[k] = activation === 'tanh' ? Math.tanh(v) : activation === 'relu' ? Math.max(0, v) : 1 / (1 + Math.exp(-v));
  }
}

/** d activation / d pre-activation through the activation's output h, as activationGrad. */
function activationSlope(h: number, activation: Activation): number {
  switch (activation) {
    case 'tanh':
      return 1 - h * h;
    case 'relu':
      return h > 0 ? 1 : 0;
    case 'sigmoid':
      return h * (1 - h);
    case 'linear':
      return 1;
  }
}
