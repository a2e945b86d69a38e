import { DaeParams } from './dae.model';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Coupled L2 on the weights (not the biases): the gradient gains weightDecay * w, as Liang et al. */
  weightDecay: number;
}

export const DEFAULT_ADAM: AdamOptions = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/**
 * Adam over flat Float32Arrays, in place. Plain loops beat a chain of tfjs ops here: one pass per
 * parameter, no intermediate tensors, and the parameters can live in a SharedArrayBuffer.
 */
export class Adam {
  private readonly m: DaeParams;
  private readonly v: DaeParams;
  private step = 0;

  constructor(
    params: DaeParams,
    private readonly options: AdamOptions,
  ) {
    const zeros = (a: Float32Array) => new Float32Array(a.length);
    this.m = { weights: params.weights.map(zeros), biases: params.biases.map(zeros) };
    this.v = { weights: params.weights.map(zeros), biases: params.biases.map(zeros) };
  }

  apply(params: DaeParams, grads: DaeParams): void {
    this.step++;
    const { learningRate, beta1, beta2, epsilon, weightDecay } = this.options;
    // bias correction folded into the step size, as in the Adam paper's section 2
    const lr = (learningRate * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    params.weights.forEach((w, l) => update(w, grads.weights[l], this.m.weights[l], this.v.weights[l], lr, beta1, beta2, epsilon, weightDecay));
    params.biases.forEach((b, l) => update(b, grads.biases[l], this.m.biases[l], this.v.biases[l], lr, beta1, beta2, epsilon, 0));
  }
}

function update(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, b1: number, b2: number, eps: number, decay: number): void {
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  for (let k = 0; k < w.length; k++) {
    const grad = g[k] + decay * w[k];
    const mk = b1 * m[k] + c1 * grad;
    const vk = b2 * v[k] + c2 * grad * grad;
    m[k] = mk;
    v[k] = vk;
    w[k] -= (lr * mk) / (Math.sqrt(vk) + eps);
  }
}
