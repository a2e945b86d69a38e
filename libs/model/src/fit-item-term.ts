import { DaeModel } from './dae.model';
import { Edlae } from './eval/edlae';
import { evaluateRanking, MetricSpec } from './eval/metrics';
import { CsrMatrix, selectRows } from './interaction-matrix';
import { ItemTerm, ItemTermInfo } from './item-term';
import { ValidationSet } from './validation-scoring';

export interface ItemTermOptions {
  /** EDLAE's dropouts p tried: the penalty grows by p / (1 - p) x each item's count. */
  dropouts: readonly number[];
  /** L2 penalties tried with each dropout, each pair fitted once (on the training rows). */
  lambdas: readonly number[];
  /** Weights of the term tried against the autoencoder's logits. */
  alphas: readonly number[];
  /** Weights kept per item (its strongest outgoing ones). */
  topK: number;
  /** Above this many items no term is fitted: EDLAE's fit holds items x items floats. */
  maxItems: number;
  /** At most this many validation users score the choices: bounds the cached score block. */
  maxValidationUsers: number;
}

/**
 * The one default, for evaluate, retrain and scheduled retrains alike. Dropout 0.5 and top-200
 * weights by row: level with the dense EDLAE on Yelp's validation users and better than EASE there
 * (docs/evaluation.md); λ and α are chosen per training on its validation users.
 */
export const DEFAULT_ITEM_TERM_OPTIONS: ItemTermOptions = {
  dropouts: [0.5],
  lambdas: [20, 100, 500],
  alphas: [0.5, 1, 2, 5, 10, 20, 50],
  topK: 200,
  maxItems: 10_000,
  maxValidationUsers: 5_000,
};

/**
 * What a tuned training searches for the term (a few seconds per fit beside the autoencoder's
 * search): more dropouts and a finer λ grid holding the default's, on the same validation users.
 */
export const TUNED_ITEM_TERM_SPACE: Pick<ItemTermOptions, 'dropouts' | 'lambdas'> = {
  dropouts: [0.25, 0.5, 0.75],
  lambdas: [10, 20, 50, 100, 200, 500, 1000],
};

/** What fitting chose, and why (stored with the model version). */
export interface ItemTermChoice {
  /** The chosen term, or null: the autoencoder alone validated best, or no term could be fitted. */
  info: ItemTermInfo | null;
  /** Why there is no term, when there is none. */
  skipped?: 'catalogue too large' | 'no validation users' | 'not better on validation';
  /** Validation NDCG@k of the autoencoder alone and with the chosen term. */
  validation: { k: number; autoencoder: number; withTerm: number } | null;
  seconds: number;
}

/**
 * Fits EDLAE on the training rows for each λ, keeps each one's top weights, and picks λ and α by
 * the validation users' NDCG@k of the autoencoder's scores plus α x the term (the autoencoder's
 * scores are computed once). The test users are never seen. α = 0 (no term) competes too.
 */
export function fitItemTerm(
  train: CsrMatrix,
  validation: ValidationSet | undefined,
  model: DaeModel,
  k: number,
  options: ItemTermOptions = DEFAULT_ITEM_TERM_OPTIONS,
): { term: ItemTerm | null; choice: ItemTermChoice } {
  const started = performance.now();
  const done = (term: ItemTerm | null, choice: Omit<ItemTermChoice, 'seconds'>) => ({
    term,
    choice: { ...choice, seconds: +((performance.now() - started) / 1000).toFixed(3) },
  });
  if (train.cols > options.maxItems)
    return done(null, { info: null, skipped: 'catalogue too large', validation: null });
  const set = validation && validationSubset(validation, options.maxValidationUsers);
  if (!set || set.input.rows === 0) return done(null, { info: null, skipped: 'no validation users', validation: null });

  const items = train.cols;
  const metric: MetricSpec = { name: `ndcg@${k}`, kind: 'ndcg', k };
  const base = model.withItemTerm(null);
  const daeScores = base.scores(set.input);
  base.dispose();
  const histories = Array.from({ length: set.input.rows }, (_, r) =>
    set.input.indices.subarray(set.input.indptr[r], set.input.indptr[r + 1]),
  );
  // each user's sums are taken once per fit and scaled per alpha as ItemTerm.addTo would: the same bits
  const score = (sums: { items: Int32Array; sums: Float64Array }[] | null, alpha: number) =>
    evaluateRanking(
      (_rows, start, end) => {
        const block = daeScores.slice(start * items, end * items);
        for (let r = start; sums && r < end; r++) {
          const row = sums[r];
          const at = (r - start) * items;
          for (let n = 0; n < row.items.length; n++) block[at + row.items[n]] += Math.fround(alpha * row.sums[n]);
        }
        return block;
      },
      set.input,
      set.heldOut,
      [metric],
    )[metric.name];

  const autoencoder = score(null, 0);
  let best: { value: number; term: ItemTerm | null } = { value: autoencoder, term: null };
  const path = options.dropouts.flatMap((dropout) => options.lambdas.map((lambda) => ({ lambda, dropout })));
  for (const edlae of Edlae.fitPath(train, path)) {
    const kept = edlae.topK(options.topK).weights;
    const info = { lambda: edlae.lambda, dropout: edlae.dropout, topK: options.topK };
    const unscaled = new ItemTerm(kept, { ...info, alpha: 1 });
    const sums = histories.map((history) => unscaled.sumsOf(history));
    for (const alpha of options.alphas) {
      const value = score(sums, alpha);
      if (value > best.value) best = { value, term: new ItemTerm(kept, { ...info, alpha }) };
    }
  }
  const validationFigures = { k, autoencoder, withTerm: best.value };
  if (!best.term) return done(null, { info: null, skipped: 'not better on validation', validation: validationFigures });
  return done(best.term, { info: best.term.info, validation: validationFigures });
}

/** At most `max` validation users, evenly spaced over the set (deterministic). */
function validationSubset(set: ValidationSet, max: number): ValidationSet {
  if (set.input.rows <= max) return set;
  const rows = Int32Array.from({ length: max }, (_, n) => Math.floor((n * set.input.rows) / max));
  return { input: selectRows(set.input, rows), heldOut: selectRows(set.heldOut, rows) };
}
