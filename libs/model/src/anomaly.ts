import { DaeModel } from './dae.model';
import { CsrMatrix, sliceRows } from './interaction-matrix';

/** Users scored per decode: bounds memory (rows x items floats) for any number of users. */
const ANOMALY_CHUNK_ROWS = 256;

/**
 * Each user's reconstruction loss on their own, uncorrupted history, per item of it: the mean
 * negative log-likelihood of their items under the softmax of the model's scores. A history the
 * model finds surprising (random items, one item pushed by many fake users) scores high.
 */
export function reconstructionLoss(model: DaeModel, rows: CsrMatrix): Float32Array {
  const items = rows.cols;
  const out = new Float32Array(rows.rows);
  for (let start = 0; start < rows.rows; start += ANOMALY_CHUNK_ROWS) {
    const end = Math.min(rows.rows, start + ANOMALY_CHUNK_ROWS);
    const block = sliceRows(rows, start, end);
    const scores = model.scores(block);
    for (let r = 0; r < end - start; r++) {
      const row = scores.subarray(r * items, (r + 1) * items);
      let max = -Infinity;
      for (let i = 0; i < items; i++) if (row[i] > max) max = row[i];
      let sum = 0;
      for (let i = 0; i < items; i++) sum += Math.exp(row[i] - max);
      const logZ = max + Math.log(sum);
      const from = block.indptr[r];
      const to = block.indptr[r + 1];
      let nll = 0;
      for (let k = from; k < to; k++) nll += logZ - row[block.indices[k]];
      out[start + r] = to > from ? nll / (to - from) : 0;
    }
  }
  return out;
}
