import { DOT_I16_WASM_BASE64 } from './kernels/dot-i16-wasm';

/** Rows scored per kernel call: the score block is items x this many floats. */
export const QUANTISED_ROWS = 16;
/** An item's weights become integers in [-levels, levels]: 16-bit and 8-bit layers' levels. */
const ITEM_LEVELS = { 16: 4095, 8: 127 } as const;

/** Bits of an item's weight in a quantised layer: 8 streams half the bytes per item, with coarser bounds. */
export type QuantisedBits = keyof typeof ITEM_LEVELS;
/** A row's values get as many levels as the integer sums allow, at most this many. */
const MAX_ROW_LEVELS = 32767;
const INT32_MAX = 2 ** 31 - 1;
/** Float32's unit roundoff, doubled: room for the conversions and roundings of a sum. */
const ROUNDOFF = 2 ** -23;
const PAGE_BYTES = 65_536;
/** wasm32 addresses 4 GiB; the kernel's memory is one block, never grown (views into it stay valid). */
const MAX_PAGES = 65_536;

/**
 * The output layer in 16-bit (or 8-bit) integers, for a first pass that finds every row's top items
 * without a float32 product over the catalogue. Each item's weights get their own scale; the integer
 * product (dot_i16 or dot_i8, about twice the float32 product's speed on wasm) then gives every score to
 * within a bound `approximate` returns per row, and the items that can still reach a row's top k
 * are few enough to score exactly (DaeModel.rank). So a ranking stays what a full decode gives.
 *
 * A row's error is the weights' rounding times the row plus the row's rounding times the weights
 * (each bounded by the smaller of its L1 x max and Cauchy-Schwarz forms), plus float32 rounding in
 * the decode's own sum (n terms, n x unit roundoff of their absolute sum) and in the kernel's.
 */
export class QuantisedOutputLayer {
  private readonly kernel: (...args: number[]) => void;
  private readonly k: number;
  private readonly at: {
    w: number;
    h: number;
    itemScale: number;
    cosineScale: number;
    rowScale: number;
    bias: number;
    zeros: number;
    out: number;
  };
  private readonly h: Int16Array;
  private readonly rowScale: Float32Array;
  private readonly out: Float32Array;
  /** The largest norm of an item's integer weights: with a row's, it bounds every integer sum. */
  private levelNorm = 0;
  /**
   * Over items: the largest rounding error, rounding-error norm, sum of |quantised| x scale, norm
   * of scale x quantised, weight norm and |bias|; for cosines, the same of each item's weights
   * over their norm (and no bias).
   */
  private readonly bounds = { scores: { ...NO_BOUND }, cosines: { ...NO_BOUND } };

  private constructor(
    readonly width: number,
    readonly items: number,
    memory: WebAssembly.Memory,
    layout: QuantisedOutputLayer['at'],
    readonly bits: QuantisedBits,
  ) {
    this.k = Math.ceil(width / 8) * 8;
    this.at = layout;
    this.h = new Int16Array(memory.buffer, layout.h, QUANTISED_ROWS * this.k);
    this.rowScale = new Float32Array(memory.buffer, layout.rowScale, QUANTISED_ROWS);
    this.out = new Float32Array(memory.buffer, layout.out, items * QUANTISED_ROWS);
    compiled ??= new WebAssembly.Module(Buffer.from(DOT_I16_WASM_BASE64, 'base64'));
    const kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports;
    this.kernel = (bits === 16 ? kernels.dot_i16 : kernels.dot_i8) as (...args: number[]) => void;
  }

  /**
   * The layer (width x items, row-major, as DaeParams hold it) and its biases quantised, or null
   * when it cannot be: non-finite weights, or more than 4 GiB of kernel memory.
   */
  static of(
    weights: Float32Array,
    bias: Float32Array,
    width: number,
    items: number,
    /** Slot s holds item order[s] (default: item s): clusters made contiguous, scored by range (approximate's `ranges`). */
    order?: Int32Array,
    bits: QuantisedBits = 16,
  ): QuantisedOutputLayer | null {
    const k = Math.ceil(width / 8) * 8;
    const levels = ITEM_LEVELS[bits];
    let used = 0;
    const take = (bytes: number) => ((used += Math.ceil(bytes / 16) * 16), used - Math.ceil(bytes / 16) * 16);
    const layout = {
      w: take((items * k * bits) / 8),
      h: take(QUANTISED_ROWS * k * 2),
      itemScale: take(items * 4),
      cosineScale: take(items * 4),
      rowScale: take(QUANTISED_ROWS * 4),
      bias: take(items * 4),
      zeros: take(items * 4),
      out: take(items * QUANTISED_ROWS * 4),
    };
    const pages = Math.ceil(used / PAGE_BYTES);
    if (pages > MAX_PAGES) return null;
    const memory = new WebAssembly.Memory({ initial: pages });
    const layer = new QuantisedOutputLayer(width, items, memory, layout, bits);
    const q =
      bits === 16
        ? new Int16Array(memory.buffer, layout.w, items * k)
        : new Int8Array(memory.buffer, layout.w, items * k);
    const scales = new Float32Array(memory.buffer, layout.itemScale, items);
    const cosineScales = new Float32Array(memory.buffer, layout.cosineScale, items);
    const biases = new Float32Array(memory.buffer, layout.bias, items);
    const column = new Float64Array(width);
    for (let slot = 0; slot < items; slot++) {
      const i = order ? order[slot] : slot;
      biases[slot] = bias[i];
      let max = 0;
      for (let j = 0; j < width; j++) max = Math.max(max, Math.abs((column[j] = weights[j * items + i])));
      if (!Number.isFinite(max) || !Number.isFinite(bias[i])) return null;
      const scale = max > 0 ? Math.fround(max / levels) : 1;
      scales[slot] = scale;
      let [errorMax, errorSq, scaledL1, scaledSq, weightSq, levelSq] = [0, 0, 0, 0, 0, 0];
      for (let j = 0; j < width; j++) {
        const v = Math.round(column[j] / scale);
        q[slot * k + j] = v;
        const err = column[j] - v * scale;
        errorMax = Math.max(errorMax, Math.abs(err));
        errorSq += err * err;
        scaledL1 += Math.abs(v) * scale;
        scaledSq += (v * scale) ** 2;
        levelSq += v * v;
        weightSq += column[j] ** 2;
      }
      // the norm as DaeModel's itemNorms has it (float64 sum in this order, float32 root)
      const norm = Math.fround(Math.sqrt(weightSq));
      cosineScales[slot] = norm > 0 ? Math.fround(scale / norm) : 0;
      const stats = {
        maxError: errorMax,
        errorNorm: Math.sqrt(errorSq),
        scaledL1,
        scaledNorm: Math.sqrt(scaledSq),
        weightNorm: Math.sqrt(weightSq),
        bias: Math.abs(bias[i]),
      };
      for (const key of Object.keys(stats) as (keyof Bound)[]) {
        layer.bounds.scores[key] = Math.max(layer.bounds.scores[key], stats[key]);
        if (norm > 0 && key !== 'bias')
          layer.bounds.cosines[key] = Math.max(layer.bounds.cosines[key], stats[key] / norm);
      }
      layer.levelNorm = Math.max(layer.levelNorm, Math.sqrt(levelSq));
    }
    return layer;
  }

  /**
   * Approximate scores of `rows` hidden rows (rows x width, at most QUANTISED_ROWS), items-major
   * (items x rows, as the decoder's product leaves them), each within margins[r] of the score a
   * decode gives; for 'cosines', of each item's product over its norm (no bias), which ranks a row
   * as its cosines do. Null when a row is not finite. The block is this layer's, overwritten by
   * the next call.
   */
  approximate(
    hidden: Float32Array,
    rows: number,
    kind: 'scores' | 'cosines' = 'scores',
    /** Slot ranges [from, to) to score, concatenated in the block (default: every slot). */
    ranges?: ArrayLike<number>,
  ): { block: Float32Array; margins: Float64Array } | null {
    const { width, k, h } = this;
    const b = this.bounds[kind];
    if (rows > QUANTISED_ROWS || hidden.length !== rows * width)
      throw new RangeError(`expected at most ${QUANTISED_ROWS} rows of ${width}`);
    const margins = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const o = r * width;
      let max = 0;
      for (let j = 0; j < width; j++) max = Math.max(max, Math.abs(hidden[o + j]));
      if (!Number.isFinite(max)) return null;
      // |integer sum| <= |row's integers| x |item's integers| (Cauchy-Schwarz) must stay below 2^31,
      // so the row gets the most levels that allows (fewer for a row whose values are all large)
      let norm = 0;
      for (let j = 0; j < width; j++) norm += hidden[o + j] * hidden[o + j];
      norm = Math.sqrt(norm);
      let levels =
        max > 0
          ? Math.max(1, Math.min(MAX_ROW_LEVELS, Math.floor((0.99 * INT32_MAX * max) / (norm * this.levelNorm))))
          : 1;
      let scale = 1;
      let [l1, errMax, errSq] = [0, 0, 0];
      for (;;) {
        scale = max > 0 ? Math.fround(max / levels) : 1;
        [l1, errMax, errSq] = [0, 0, 0];
        let levelSq = 0;
        for (let j = 0; j < width; j++) {
          const x = hidden[o + j];
          const v = Math.round(x / scale);
          h[r * k + j] = v;
          const err = Math.abs(x - v * scale);
          [l1, errMax, errSq, levelSq] = [l1 + Math.abs(x), Math.max(errMax, err), errSq + err * err, levelSq + v * v];
        }
        // rounding up can pass the estimate: then fewer levels
        if (Math.sqrt(levelSq) * this.levelNorm < INT32_MAX || levels === 1) break;
        levels = Math.max(1, Math.floor(levels / 2));
      }
      this.rowScale[r] = scale;
      const errNorm = Math.sqrt(errSq);
      // h.w - approx = h.(w's rounding) + (h's rounding).(quantised w)
      const weightsPart = Math.min(l1 * b.maxError, norm * b.errorNorm);
      const rowPart = Math.min(errMax * b.scaledL1, errNorm * b.scaledNorm);
      // cosines: also the division by the norms and its float32 rounding (|product / norm| <= norm)
      const rounding =
        (width + 8) * ROUNDOFF * (b.bias + norm * b.weightNorm + weightsPart + rowPart) +
        (kind === 'cosines' ? 4 * ROUNDOFF * norm : 0);
      margins[r] = (weightsPart + rowPart + rounding) * (1 + 1e-6);
    }
    const [itemScale, bias] =
      kind === 'scores' ? [this.at.itemScale, this.at.bias] : [this.at.cosineScale, this.at.zeros];
    if (!ranges) {
      this.kernel(this.at.w, this.at.h, itemScale, this.at.rowScale, bias, this.at.out, this.items, rows, k);
      return { block: this.out.subarray(0, this.items * rows), margins };
    }
    let written = 0;
    for (let n = 0; n < ranges.length; n += 2) {
      const [from, to] = [ranges[n], ranges[n + 1]];
      if (!(from >= 0 && from <= to && to <= this.items && written + to - from <= this.items))
        throw new RangeError(`slots ${from}..${to} of ${this.items}`);
      const [w, scales, biases] = [this.at.w + (from * k * this.bits) / 8, itemScale + from * 4, bias + from * 4];
      this.kernel(w, this.at.h, scales, this.at.rowScale, biases, this.at.out + written * rows * 4, to - from, rows, k);
      written += to - from;
    }
    return { block: this.out.subarray(0, written * rows), margins };
  }
}

let compiled: WebAssembly.Module | null = null;

type Bound = Record<'maxError' | 'errorNorm' | 'scaledL1' | 'scaledNorm' | 'weightNorm' | 'bias', number>;
const NO_BOUND: Bound = { maxError: 0, errorNorm: 0, scaledL1: 0, scaledNorm: 0, weightNorm: 0, bias: 0 };
