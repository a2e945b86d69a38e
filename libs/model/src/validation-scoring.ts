import { DaeModel } from './dae.model';
import { DaeConfig, DaeParams } from './dae-config';
import { CsrMatrix, sliceRows } from './interaction-matrix';
import { metricValues } from './eval/metrics';

/** Held-out data for early stopping: score from `input` row r, find `heldOut` row r. */
export interface ValidationSet {
  input: CsrMatrix;
  heldOut: CsrMatrix;
}

/** NDCG@k of each validation user with held-out items, in row order (see meanInOrder). */
export function validationValues(
  config: DaeConfig,
  params: DaeParams,
  validation: ValidationSet,
  k: number,
): Float64Array {
  const model = new DaeModel(config, params);
  try {
    return metricValues(
      (rows, start, end) => model.scores(sliceRows(rows, start, end)),
      validation.input,
      validation.heldOut,
      [{ name: `ndcg@${k}`, kind: 'ndcg', k }],
    )[0];
  } finally {
    model.dispose();
  }
}

/** Rows [start, end) of both matrices, copied (a message then carries only them). */
export function validationRows(validation: ValidationSet, start: number, end: number): ValidationSet {
  const copy = (m: CsrMatrix): CsrMatrix => {
    const view = sliceRows(m, start, end);
    return { ...view, indices: view.indices.slice(), values: view.values.slice() };
  };
  return { input: copy(validation.input), heldOut: copy(validation.heldOut) };
}
