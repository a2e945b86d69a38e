import { FeedbackRole, roleOf } from '@app/feedback';
import {
  CsrMatrix,
  DaeConfig,
  filterCore,
  filterValues,
  HeldOutSet,
  LabeledInteractions,
  metricMeans,
  metricValues,
  pairedDifference,
  Popularity,
  Scorer,
  scoredUsers,
  sliceRows,
  STRONG_METRICS,
  strongGeneralizationSplit,
  trainModel,
  TrainDaeOptions,
} from '@app/model';

/**
 * `npm run evaluate -- --positive-min P [--negative-max N]`: what event roles change offline, on a
 * rating file, under the strong protocol. Every rating is an event; the rule recoder would be
 * given (rating: POSITIVE at P and above, NEGATIVE at N and below, IGNORED between) decides each
 * one's role through libs/feedback's roleOf, as the service does. One split of all the events per
 * seed, so every variant is scored on the same test users and the same targets (their held-out
 * POSITIVE ratings):
 *   all_positive  every rating a positive, as recoder read events before roles: trained on all,
 *                 a test user's every fold-in rating is their input (and seen)
 *   roles         POSITIVE ratings only as training input and fold-in input; the others are not seen
 *   roles_hiding  the roles model, with each test user's NEGATIVE fold-in ratings hidden from their
 *                 ranking, as the API hides a user's negatives (held-out negatives are not known)
 * Paired differences over test users say what using negatives changes (roles_hiding - roles) and
 * what the roles change (roles - all_positive). Nothing is tuned: the defaults, early stopping and
 * the item term's choice on validation users.
 */
export interface RolesRun {
  data: LabeledInteractions;
  positiveMin: number;
  negativeMax: number | null;
  seeds: number[];
  config: Omit<DaeConfig, 'items'>;
  train: Omit<TrainDaeOptions, 'seed'>;
  itemTerm: boolean;
  heldOutUsers: number;
  foldIn: number;
  minUser: number;
  progress: (message: string) => void;
}

type Variant = 'all_positive' | 'roles' | 'roles_hiding' | 'popularity';
const VARIANTS: Variant[] = ['all_positive', 'roles', 'roles_hiding', 'popularity'];

export async function evaluateRoles(run: RolesRun) {
  const { positiveMin, negativeMax, progress } = run;
  const rule = {
    role: FeedbackRole.IGNORED,
    weight: 1,
    conditions: [
      { role: FeedbackRole.POSITIVE, min: positiveMin, max: null },
      ...(negativeMax === null ? [] : [{ role: FeedbackRole.NEGATIVE, min: null, max: negativeMax }]),
    ],
  };
  const is = (role: FeedbackRole) => (rating: number) => roleOf(rule, rating) === role;
  const positive = is(FeedbackRole.POSITIVE);
  const negative = is(FeedbackRole.NEGATIVE);
  const data = filterCore(run.data, run.minUser, 0);
  const roleCounts = Object.fromEntries(
    Object.values(FeedbackRole).map((role) => [role, data.weight.filter(is(role)).length]),
  );
  progress(
    `${data.user.length} ratings, ${data.users.size} users, ${data.items.size} items; roles ${JSON.stringify(roleCounts)}`,
  );

  const perUser: Record<Variant, Float64Array[][]> = { all_positive: [], roles: [], roles_hiding: [], popularity: [] };
  const perSeed: Record<string, unknown>[] = [];
  let trainSeconds = 0;
  let negativesKnown = 0;
  let usersWithNegatives = 0;
  for (const seed of run.seeds) {
    const s = strongGeneralizationSplit(data, seed, { heldOutUsers: run.heldOutUsers, foldIn: run.foldIn });
    // the targets: held-out POSITIVE ratings, whatever the variant
    const targetsOf = (set: HeldOutSet) => filterValues(set.heldOut, positive);
    const test = { all: s.test.input, positives: filterValues(s.test.input, positive), targets: targetsOf(s.test) };
    const negatives = filterValues(s.test.input, negative);
    negativesKnown += negatives.indices.length;
    for (let r = 0; r < negatives.rows; r++) if (negatives.indptr[r + 1] > negatives.indptr[r]) usersWithNegatives++;
    const validation = s.validation!;
    const fit = async (name: string, train: CsrMatrix, validationInput: CsrMatrix) => {
      const started = performance.now();
      const trained = await trainModel(train, run.config, {
        ...run.train,
        seed,
        itemTerm: run.itemTerm && {},
        validation: { input: validationInput, heldOut: targetsOf(validation) },
        onEpoch: (e) => {
          if (e.epoch % 10 === 0) progress(`seed ${seed} ${name} epoch ${e.epoch}: ndcg ${e.ndcg?.toFixed(4) ?? '-'}`);
        },
      });
      trainSeconds += (performance.now() - started) / 1000;
      return trained;
    };
    const scorer =
      (model: { scores(rows: CsrMatrix): Float32Array }): Scorer =>
      (rows, a, b) =>
        model.scores(sliceRows(rows, a, b));

    const everything = await fit('all_positive', s.train, validation.input);
    perUser.all_positive.push(metricValues(scorer(everything.model), test.all, test.targets, STRONG_METRICS));
    everything.model.dispose();

    const trainPositives = filterValues(s.train, positive);
    const roles = await fit('roles', trainPositives, filterValues(validation.input, positive));
    perUser.roles.push(metricValues(scorer(roles.model), test.positives, test.targets, STRONG_METRICS));
    perUser.roles_hiding.push(
      metricValues(hiding(scorer(roles.model), negatives), test.positives, test.targets, STRONG_METRICS),
    );
    roles.model.dispose();

    const popularity = Popularity.fit(trainPositives);
    perUser.popularity.push(
      metricValues((rows, a, b) => popularity.scores(rows, a, b), test.positives, test.targets, STRONG_METRICS),
    );
    const means = Object.fromEntries(VARIANTS.map((v) => [v, metricMeans(STRONG_METRICS, perUser[v].at(-1)!)]));
    perSeed.push({
      seed,
      test_users: scoredUsers({ ...s.test, heldOut: test.targets }),
      best_epochs: { all_positive: everything.bestEpoch, roles: roles.bestEpoch },
      ...means,
    });
    progress(`seed ${seed}: ${JSON.stringify(means)}`);
  }

  const mean = (v: Variant) => Object.fromEntries(STRONG_METRICS.map((m, j) => [m.name, round(meanOf(perUser[v], j))]));
  const paired = (a: Variant, b: Variant) =>
    Object.fromEntries(
      STRONG_METRICS.map((m, j) => {
        const d = pairedDifference(
          perUser[a].map((v) => v[j]),
          perUser[b].map((v) => v[j]),
        );
        return [m.name, { mean: round(d.mean), se: round(d.se), users: d.users }];
      }),
    );
  return {
    roles: {
      rule: { positive_min: positiveMin, negative_max: negativeMax },
      ratings_by_role: roleCounts,
      // over every seed's test users: the fold-in NEGATIVE ratings the hiding variant knows
      known_negatives: { ratings: negativesKnown, test_users_with_any: usersWithNegatives },
      ...Object.fromEntries(VARIANTS.map((v) => [v, mean(v)])),
      // paired over the test users of every seed: a difference within ~2 se of 0 is a tie
      roles_hiding_minus_roles: paired('roles_hiding', 'roles'),
      roles_minus_all_positive: paired('roles', 'all_positive'),
      roles_hiding_minus_all_positive: paired('roles_hiding', 'all_positive'),
    },
    users: data.users.size,
    items: data.items.size,
    ratings: data.user.length,
    train_seconds: round(trainSeconds, 1),
    per_seed: perSeed,
  };
}

/** The scorer with each row's NEGATIVE items out of its ranking (topK skips NaN), as the API hides them. */
function hiding(scorer: Scorer, negatives: CsrMatrix): Scorer {
  return (rows, start, end) => {
    const scores = scorer(rows, start, end);
    const cols = rows.cols;
    for (let r = start; r < end; r++)
      for (let q = negatives.indptr[r]; q < negatives.indptr[r + 1]; q++)
        scores[(r - start) * cols + negatives.indices[q]] = Number.NaN;
    return scores;
  };
}

function meanOf(parts: Float64Array[][], metric: number): number {
  let sum = 0;
  let n = 0;
  for (const part of parts) {
    for (const v of part[metric]) sum += v;
    n += part[metric].length;
  }
  return n ? sum / n : 0;
}

function round(x: number, digits = 5): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
