import { DaeModel } from '@app/model';

/** Most users scored in one matMul: bounds a batch's latency and memory. */
const MAX_BATCH = 64;

interface Pending {
  model: DaeModel;
  embedding: Float32Array;
  resolve: (scores: Float32Array) => void;
  reject: (err: unknown) => void;
}

/**
 * Micro-batching: requests that arrive while the event loop is busy are decoded together, one
 * (n x dim) @ (dim x items) product instead of n vector products, which the backend runs far
 * closer to its peak.
 */
export class DecodeBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  decode(model: DaeModel, embedding: Float32Array): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.pending.push({ model, embedding, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    // a model switch mid-batch: each model decodes its own requests
    const byModel = new Map<DaeModel, Pending[]>();
    for (const p of all) byModel.set(p.model, [...(byModel.get(p.model) ?? []), p]);
    for (const [model, group] of byModel) {
      for (let start = 0; start < group.length; start += MAX_BATCH) this.run(model, group.slice(start, start + MAX_BATCH));
    }
  }

  private run(model: DaeModel, group: Pending[]): void {
    try {
      const dim = model.embeddingDim;
      const input = new Float32Array(group.length * dim);
      group.forEach((p, r) => input.set(p.embedding, r * dim));
      const scores = model.decode(input, group.length);
      const items = model.config.items;
      group.forEach((p, r) => p.resolve(scores.subarray(r * items, (r + 1) * items)));
    } catch (err) {
      group.forEach((p) => p.reject(err));
    }
  }
}
