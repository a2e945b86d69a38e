import { CsrMatrix } from '../interaction-matrix';
import { Edlae, LinearFitOptions } from './edlae';
import { SparseItemWeights } from './item-weights';

/**
 * EASE (Steck, WWW 2019): B = I - P diagMat(1 / diag(P)), P = (X^T X + lambda I)^-1, diag(B) = 0,
 * on binarised X; a user's scores are x B. It is EDLAE with no dropout: see edlae.ts for the two
 * sides (items x items, or users x users by Woodbury when there are fewer users) and the two
 * precisions (a float64 solve up to FLOAT64_MAX_SOLVE rows, the blocked float32 inverse beyond).
 */
export class Ease {
  private constructor(private readonly model: Edlae) {}

  get lambda(): number {
    return this.model.lambda;
  }

  static fit(train: CsrMatrix, lambda: number, how?: LinearFitOptions): Ease {
    return new Ease(Edlae.fit(train, { lambda }, how));
  }

  /** Primal and dual on the same data, for tests. */
  static fitWith(train: CsrMatrix, lambda: number, side: 'primal' | 'dual'): Ease {
    return Ease.fit(train, lambda, { side });
  }

  /** One model per lambda, in turn, with X^T X computed once (see Edlae.fitPath). */
  static *fitPath(train: CsrMatrix, lambdas: readonly number[], how?: LinearFitOptions): Generator<Ease> {
    for (const model of Edlae.fitPath(
      train,
      lambdas.map((lambda) => ({ lambda })),
      how,
    ))
      yield new Ease(model);
  }

  /** Scores (rows end - start x items, row-major) from the rows' items (binarised). */
  scores(rows: CsrMatrix, start = 0, end = rows.rows): Float32Array {
    return this.model.scores(rows, start, end);
  }

  topK(k: number, by?: 'row' | 'column'): SparseItemWeights {
    return this.model.topK(k, by);
  }
}
