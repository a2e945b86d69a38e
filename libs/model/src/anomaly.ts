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
    // the autoencoder's own reconstruction: the item term would smooth over what makes a history odd
    const scores = model.scores(block, undefined, 'users', false);
    for (let r = 0; r < end - start; r++) {
      out[start + r] = historyLoss(
        scores.subarray(r * items, (r + 1) * items),
        block.indices.subarray(block.indptr[r], block.indptr[r + 1]),
      );
    }
  }
  return out;
}

/** One history's loss from its row of scores (as a fold-in gives them): mean -log softmax of its items. */
export function historyLoss(row: Float32Array, history: ArrayLike<number>): number {
  if (history.length === 0) return 0;
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const logZ = max + Math.log(sum);
  let nll = 0;
  for (let k = 0; k < history.length; k++) nll += logZ - row[history[k]];
  return nll / history.length;
}
