import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { INTERACTION_FORMATS, isInteractionFormat, readInteractionFile } from '@app/ingest';
import {
  backendFromEnv,
  carveValidation,
  CsrMatrix,
  DaeConfig,
  DEFAULT_DAE_CONFIG,
  DEFAULT_TRAIN_OPTIONS,
  Ease,
  evaluateRanking,
  meanInOrder,
  metricMeans,
  metricValues,
  pairedDifference,
  EvaluationSplit,
  filterCore,
  IdIndex,
  initBackend,
  LabeledInteractions,
  MetricSpec,
  Popularity,
  scoredUsers,
  Scorer,
  selectRows,
  sliceRows,
  STRONG_METRICS,
  strongGeneralizationSplit,
  trainModel,
  TUNED_ITEM_TERM_SPACE,
  TrainDaeOptions,
  ValidationSet,
  tuneDae,
  TuneResult,
  withSettings,
  trainSettings,
  userRandomSplit,
  userSplitMetrics,
  Activation,
  DaeLoss,
  DaeInput,
} from '@app/model';
import { createRng, shuffleInPlace } from '@app/random';
import { parseFlags, runCli, UsageError } from './cli';
import { evaluateRoles } from './evaluate-roles';

/**
 * Offline evaluation of the DAE against most-popular and EASE on a public dataset file, with the
 * strong-generalisation protocol of Liang et al. 2018 or the per-user random split of RecBole /
 * Microsoft Recommenders. Progress on stderr; one JSON line of results on stdout.
 */
const FLAGS = [
  'data',
  'format',
  'protocol',
  'seeds',
  'min-rating',
  'epochs',
  'dump-split',
  'out',
  'split',
  'k',
  'min-user-interactions',
  'min-item-interactions',
  'batch-size',
  'lr',
  'dropout',
  'weight-decay',
  'hidden',
  'dim',
  'activation',
  'loss',
  'input',
  'patience',
  'threads',
  'carve-validation',
  'ease-lambdas',
  'ema',
  'emphasis',
  'positive-weight',
  'lr-decay-patience',
  'lr-decay-factor',
  'validation-only',
  'cross-fit',
  'shards',
  'tune-budget',
  'per-user',
  'item-term',
  'positive-min',
  'negative-max',
  'sampled-negatives',
] as const;

/**
 * Each batch's gradient is summed from this many shards (one per thread on two threads), whatever
 * the thread count: the figures depend on the seed, not on the machine's cores.
 */
const DEFAULT_SHARDS = 2;

const EASE_LAMBDAS = [5, 10, 20, 50, 100, 200, 500, 1000];
/** Liang et al.: hold out this share of users for validation and the same for test. */
const STRONG_HELD_OUT_USERS = 0.1;
const STRONG_FOLD_IN = 0.8;
const STRONG_MIN_USER_INTERACTIONS = 5;

type Protocol = 'strong' | 'user-split';

async function main(args: string[]): Promise<unknown> {
  const flags = parseFlags(args, FLAGS);
  if (!flags.data) throw new UsageError('--data PATH is required');
  const format = flags.format ?? 'csv';
  if (!isInteractionFormat(format)) throw new UsageError(`--format must be one of ${INTERACTION_FORMATS.join(', ')}`);
  const protocolName = (flags.protocol ?? 'strong') as Protocol;
  if (protocolName !== 'strong' && protocolName !== 'user-split')
    throw new UsageError('--protocol must be strong or user-split');
  const seeds = list(flags.seeds ?? '1', 'seeds').map((s) => Math.trunc(s));
  const minRating = num(flags['min-rating'] ?? '4', 'min-rating');
  const k = num(flags.k ?? '10', 'k');
  const split = list(flags.split ?? '0.8,0.1,0.1', 'split');
  if (split.length !== 3) throw new UsageError('--split needs three fractions: train,validation,test');
  const minUser =
    protocolName === 'strong'
      ? STRONG_MIN_USER_INTERACTIONS
      : num(flags['min-user-interactions'] ?? '0', 'min-user-interactions');
  const minItem = protocolName === 'strong' ? 0 : num(flags['min-item-interactions'] ?? '0', 'min-item-interactions');

  // the library's defaults, the ones retrain serves: the table describes what users get
  const numFlag = (name: (typeof FLAGS)[number], fallback: number) => (flags[name] ? num(flags[name], name) : fallback);
  const config: Omit<DaeConfig, 'items'> = {
    ...DEFAULT_DAE_CONFIG,
    hidden:
      flags.hidden !== undefined
        ? flags.hidden === '' || flags.hidden === 'none'
          ? []
          : list(flags.hidden, 'hidden')
        : DEFAULT_DAE_CONFIG.hidden,
    embeddingDim: numFlag('dim', DEFAULT_DAE_CONFIG.embeddingDim),
    activation: (flags.activation ?? DEFAULT_DAE_CONFIG.activation) as Activation,
    loss: (flags.loss ?? DEFAULT_DAE_CONFIG.loss) as DaeLoss,
    input: (flags.input ?? DEFAULT_DAE_CONFIG.input) as DaeInput,
  };
  const d = DEFAULT_TRAIN_OPTIONS;
  const train: Omit<TrainDaeOptions, 'seed'> = {
    ...d,
    epochs: numFlag('epochs', d.epochs),
    patience: numFlag('patience', d.patience),
    batchSize: numFlag('batch-size', d.batchSize),
    learningRate: numFlag('lr', d.learningRate),
    dropout: numFlag('dropout', d.dropout),
    emphasis: numFlag('emphasis', d.emphasis),
    positiveWeight: numFlag('positive-weight', d.positiveWeight),
    lrDecayPatience: numFlag('lr-decay-patience', d.lrDecayPatience),
    lrDecayFactor: numFlag('lr-decay-factor', d.lrDecayFactor),
    weightDecay: numFlag('weight-decay', d.weightDecay),
    threads: numFlag('threads', availableParallelism()),
    shards: numFlag('shards', DEFAULT_SHARDS),
    carveValidation: numFlag('carve-validation', d.carveValidation),
    validationK: protocolName === 'strong' ? 100 : k,
    ema: numFlag('ema', d.ema),
    // sampled training (large catalogues) on any dataset, to measure its quality against the full layer
    sampledNegatives: numFlag('sampled-negatives', d.sampledNegatives),
  };
  // model selection without looking at test: no refit, no test scoring, validation figures only
  const validationOnly = flags['validation-only'] === 'true';
  if (validationOnly) train.refit = false;
  // each half of the validation users picks the epoch and λ the other half is scored with, so the
  // figures carry no selection bias: the best of ~50 noisy epochs flatters the raw validation NDCG
  const crossFit = flags['cross-fit'] === 'true';
  if (crossFit && !validationOnly)
    throw new UsageError('--cross-fit goes with --validation-only: it never scores test');
  if (crossFit && protocolName !== 'strong')
    throw new UsageError("--cross-fit needs the strong protocol's validation users");
  const tuneBudget = flags['tune-budget'] !== undefined ? num(flags['tune-budget'], 'tune-budget') : 0;
  if (flags['tune-budget'] !== undefined && !(tuneBudget > 0))
    throw new UsageError('--tune-budget must be a positive number of seconds');
  if (tuneBudget && crossFit) throw new UsageError('--tune-budget does not go with --cross-fit');
  // the served model: the autoencoder plus the linear item term chosen on validation; false: the autoencoder alone
  if (flags['item-term'] !== undefined && flags['item-term'] !== 'true' && flags['item-term'] !== 'false')
    throw new UsageError('--item-term takes true or false');
  const itemTerm = flags['item-term'] !== 'false';
  const lambdas = flags['ease-lambdas'] ? list(flags['ease-lambdas'], 'ease-lambdas') : EASE_LAMBDAS;
  const metrics: MetricSpec[] = protocolName === 'strong' ? STRONG_METRICS : userSplitMetrics(k);
  const selectionMetric: MetricSpec = { name: `ndcg@${train.validationK}`, kind: 'ndcg', k: train.validationK };

  const roleRule = roleThresholds(flags, protocolName, { validationOnly, crossFit, tuneBudget });

  const backend = await initBackend(backendFromEnv());
  progress(`backend ${backend.backend} (simd ${backend.simd}), reading ${flags.data}`);
  if (roleRule) {
    // every rating is an event: the rule gives each its role
    const events = await readLabeled(flags.data, format, -Infinity);
    const result = await evaluateRoles({
      data: events,
      ...roleRule,
      seeds,
      config,
      train,
      itemTerm,
      heldOutUsers: STRONG_HELD_OUT_USERS,
      foldIn: STRONG_FOLD_IN,
      minUser,
      progress,
    });
    const out = {
      dataset: flags.data,
      format,
      backend: backend.backend,
      seeds,
      epochs: train.epochs,
      protocol: {
        name: 'strong',
        min_user_interactions: minUser,
        held_out_users: STRONG_HELD_OUT_USERS,
        fold_in: STRONG_FOLD_IN,
        metrics: metrics.map((m) => m.name),
      },
      model: { ...config, item_term: itemTerm },
      ...result,
    };
    if (flags.out) writeFileSync(flags.out, `${JSON.stringify(out, null, 2)}\n`);
    return out;
  }
  const raw = await readLabeled(flags.data, format, minRating);
  const data = filterCore(raw, minUser, minItem);
  progress(`${data.user.length} interactions, ${data.users.size} users, ${data.items.size} items after filtering`);

  const results: Record<'dae' | 'popularity' | 'ease', Record<string, number>[]> = {
    dae: [],
    popularity: [],
    ease: [],
  };
  const perSeed: Record<string, unknown>[] = [];
  const perUser: Record<'dae' | 'ease', Float64Array[][]> = { dae: [], ease: [] };
  const validation: Record<'dae' | 'ease', number>[] = [];
  const crossFitted: Record<'dae' | 'ease', Float64Array[][]> = { dae: [], ease: [] };
  let trainSeconds = 0;
  for (const seed of seeds) {
    const s =
      protocolName === 'strong'
        ? strongGeneralizationSplit(data, seed, { heldOutUsers: STRONG_HELD_OUT_USERS, foldIn: STRONG_FOLD_IN })
        : userRandomSplit(data, seed, [split[0], split[1], split[2]]);
    if (flags['dump-split']) dumpSplit(flags['dump-split'], seed, s);
    progress(
      `seed ${seed}: ${s.train.rows} training users, ${s.train.cols} items, ${s.validation ? scoredUsers(s.validation) : 0} validation, ${scoredUsers(s.test)} test users`,
    );

    if (crossFit) {
      const fitted = await crossFitSeed(s.train, s.validation!, seed, {
        config,
        train,
        lambdas,
        metrics,
        selectionMetric,
        itemTerm,
      });
      trainSeconds += fitted.seconds;
      crossFitted.dae.push(...fitted.dae);
      crossFitted.ease.push(...fitted.ease);
      continue;
    }
    const started = performance.now();
    const tuned = tuneBudget ? await tuneOnValidation(s, config, { ...train, seed }, tuneBudget) : null;
    const trained = await trainModel(s.train, tuned ? withSettings(config, tuned.settings) : config, {
      ...train,
      ...(tuned && trainSettings(tuned.settings)),
      seed,
      // a tuned run searches the term's dropout and λ more finely too
      itemTerm: itemTerm && (tuned ? TUNED_ITEM_TERM_SPACE : {}),
      validation: s.validation ? { input: s.validation.input, heldOut: s.validation.heldOut } : undefined,
      onEpoch: (e) =>
        progress(
          `seed ${seed} ${e.phase ?? 'epoch'} ${e.epoch}: loss ${e.loss.toFixed(2)} ndcg ${e.ndcg?.toFixed(4) ?? '-'} ${e.seconds.toFixed(2)} s`,
        ),
    });
    const seconds = (performance.now() - started) / 1000;
    trainSeconds += seconds;
    const model = trained.model;
    const tunedSummary = tuned && {
      settings: tuned.settings,
      seconds: tuned.seconds,
      candidates: tuned.candidates,
      trials: tuned.trials.length,
    };
    const easeChoice = chooseEaseLambda(s, lambdas, selectionMetric, seed, train.carveValidation);
    const termSummary = trained.itemTerm && {
      ...trained.itemTerm.info,
      skipped: trained.itemTerm.skipped,
      validation: trained.itemTerm.validation,
      seconds: trained.itemTerm.seconds,
    };
    if (trained.itemTerm)
      progress(
        `seed ${seed}: item term ${trained.itemTerm.info ? `λ ${trained.itemTerm.info.lambda}, α ${trained.itemTerm.info.alpha}` : `none (${trained.itemTerm.skipped})`}; validation ${selectionMetric.name} ${trained.itemTerm.validation?.autoencoder.toFixed(4) ?? '-'} -> ${trained.itemTerm.validation?.withTerm.toFixed(4) ?? '-'} (${trained.itemTerm.seconds} s)`,
      );
    validation.push({ dae: trained.itemTerm?.validation?.withTerm ?? trained.bestNdcg ?? NaN, ease: easeChoice.value });
    if (validationOnly) {
      model.dispose();
      perSeed.push({
        seed,
        train_seconds: round(seconds),
        best_epoch: trained.bestEpoch,
        ease_lambda: easeChoice.lambda,
        validation: validation.at(-1),
        ...(tunedSummary && { tuned: tunedSummary }),
        ...(termSummary && { item_term: termSummary }),
      });
      progress(
        `seed ${seed}: validation ${selectionMetric.name} dae ${validation.at(-1)!.dae.toFixed(4)} (epoch ${trained.bestEpoch}) | ease(λ=${easeChoice.lambda}) ${easeChoice.value.toFixed(4)} | ${seconds.toFixed(1)} s`,
      );
      continue;
    }
    // per user, kept for the paired comparison with EASE
    perUser.dae.push(
      metricValues((rows, a, b) => model.scores(sliceRows(rows, a, b)), s.test.input, s.test.heldOut, metrics),
    );
    results.dae.push(metricMeans(metrics, perUser.dae.at(-1)!));
    model.dispose();

    const pop = Popularity.fit(s.train);
    results.popularity.push(
      evaluateRanking((rows, a, b) => pop.scores(rows, a, b), s.test.input, s.test.heldOut, metrics),
    );

    const lambda = easeChoice.lambda;
    const ease = Ease.fit(s.train, lambda);
    perUser.ease.push(metricValues(scorerOf(ease), s.test.input, s.test.heldOut, metrics));
    results.ease.push(metricMeans(metrics, perUser.ease.at(-1)!));
    perSeed.push({
      seed,
      train_seconds: round(seconds),
      best_epoch: trained.bestEpoch,
      ease_lambda: lambda,
      validation: validation.at(-1),
      dae: results.dae.at(-1),
      ease: results.ease.at(-1),
      ...(tunedSummary && { tuned: tunedSummary }),
      ...(termSummary && { item_term: termSummary }),
    });
    progress(
      `seed ${seed}: dae ${fmt(results.dae.at(-1)!)} | ease(λ=${lambda}) ${fmt(results.ease.at(-1)!)} | pop ${fmt(results.popularity.at(-1)!)} | ${seconds.toFixed(1)} s`,
    );
  }

  const result = {
    dataset: flags.data,
    format,
    users: data.users.size,
    items: data.items.size,
    interactions: data.user.length,
    backend: backend.backend,
    threads: Math.min(train.threads, train.shards ?? train.threads),
    shards: train.shards,
    seeds,
    // with --tune-budget, each seed's search is included
    train_seconds: round(trainSeconds),
    tune_budget_seconds: tuneBudget || null,
    epochs: train.epochs,
    protocol:
      protocolName === 'strong'
        ? {
            name: 'strong',
            min_rating: minRating,
            min_user_interactions: minUser,
            held_out_users: STRONG_HELD_OUT_USERS,
            fold_in: STRONG_FOLD_IN,
            metrics: metrics.map((m) => m.name),
            relevance: 'binary',
          }
        : {
            name: 'user-split',
            min_rating: minRating,
            min_user_interactions: minUser,
            min_item_interactions: minItem,
            split,
            k,
            ranking: "all items minus the user's training (and validation) items",
            metrics: metrics.map((m) => m.name),
            relevance: 'binary',
          },
    model: {
      ...config,
      ...pick(train, [
        'batchSize',
        'learningRate',
        'dropout',
        'emphasis',
        'positiveWeight',
        'weightDecay',
        'lrDecayPatience',
        'lrDecayFactor',
        'patience',
        'validationK',
        'carveValidation',
        'refit',
        'ema',
      ]),
    },
    ease_lambdas: lambdas,
    // the selection metric on validation (carved from train when the split has none), best epoch / λ
    validation: { metric: selectionMetric.name, ...summarize(validation) },
    ...(crossFit
      ? {
          cross_fit: {
            dae: byMetric(metrics, (j) => round(meanInOrder(crossFitted.dae.map((v) => v[j])), 5)),
            ease: byMetric(metrics, (j) => round(meanInOrder(crossFitted.ease.map((v) => v[j])), 5)),
            dae_minus_ease: daeMinusEase(metrics, crossFitted),
            // per user, halves in order: two runs' lists pair up for a paired difference of configurations
            dae_per_user: daePerUser(metrics, crossFitted.dae),
          },
        }
      : {}),
    ...(validationOnly
      ? { test: 'not scored (--validation-only)' }
      : {
          dae: summarize(results.dae),
          popularity: summarize(results.popularity),
          ease: summarize(results.ease),
          // paired over every test user of every seed: a difference within ~2 se of 0 is a tie
          dae_minus_ease: daeMinusEase(metrics, perUser),
          // per test user, seeds in order: two runs on the same seeds pair up (the suite's tuned - default)
          ...(flags['per-user'] === 'true' && { dae_per_user: daePerUser(metrics, perUser.dae) }),
        }),
    per_seed: perSeed,
  };
  if (flags.out) writeFileSync(flags.out, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** --positive-min P [--negative-max N]: the role rule of a rating file, or null without it. */
function roleThresholds(
  flags: Record<string, string>,
  protocol: Protocol,
  other: { validationOnly: boolean; crossFit: boolean; tuneBudget: number },
): { positiveMin: number; negativeMax: number | null } | null {
  if (flags['positive-min'] === undefined) {
    if (flags['negative-max'] !== undefined) throw new UsageError('--negative-max goes with --positive-min');
    return null;
  }
  const positiveMin = num(flags['positive-min'], 'positive-min');
  const negativeMax = flags['negative-max'] === undefined ? null : num(flags['negative-max'], 'negative-max');
  if (negativeMax !== null && negativeMax >= positiveMin)
    throw new UsageError('--negative-max must be below --positive-min');
  if (flags['min-rating'] !== undefined)
    throw new UsageError('--min-rating does not go with --positive-min: the roles decide which ratings count');
  if (protocol !== 'strong') throw new UsageError('--positive-min needs the strong protocol');
  if (other.validationOnly || other.crossFit || other.tuneBudget)
    throw new UsageError('--positive-min does not go with --validation-only, --cross-fit or --tune-budget');
  return { positiveMin, negativeMax };
}

/**
 * Settings chosen within the budget on the split's validation users (carved from train as training
 * would carve them when the split has none): test is never scored.
 */
async function tuneOnValidation(
  s: EvaluationSplit,
  config: Omit<DaeConfig, 'items'>,
  options: TrainDaeOptions,
  budgetSeconds: number,
): Promise<TuneResult> {
  const on = s.validation
    ? { train: s.train, validation: s.validation }
    : carveValidation(s.train, options.carveValidation, createRng(options.seed + 1));
  return tuneDae(
    on.train,
    on.validation,
    { config, options },
    {
      budgetSeconds,
      onTrial: (t) =>
        progress(
          `seed ${options.seed} tune: candidate ${t.candidate} rung ${t.rung} (${t.epochs} epochs) ndcg ${t.ndcg.toFixed(4)} ${JSON.stringify(t.settings)} ${t.seconds.toFixed(1)} s`,
        ),
    },
  );
}

interface CrossFitRun {
  config: Omit<DaeConfig, 'items'>;
  train: Omit<TrainDaeOptions, 'seed'>;
  lambdas: number[];
  metrics: MetricSpec[];
  selectionMetric: MetricSpec;
  itemTerm: boolean;
}

/**
 * One seed, cross-fitted: each half of the validation users picks the DAE's epoch and EASE's λ that
 * the other half is then scored with. Per half, each metric's per-user values.
 */
async function crossFitSeed(
  trainRows: CsrMatrix,
  validation: ValidationSet,
  seed: number,
  run: CrossFitRun,
): Promise<{ seconds: number; dae: Float64Array[][]; ease: Float64Array[][] }> {
  const { metrics } = run;
  const out = { seconds: 0, dae: [] as Float64Array[][], ease: [] as Float64Array[][] };
  const halves = halveUsers(validation, seed);
  for (const [selectOn, scoreOn] of [halves, [halves[1], halves[0]]]) {
    const started = performance.now();
    const trained = await trainModel(trainRows, run.config, {
      ...run.train,
      seed,
      validation: selectOn,
      itemTerm: run.itemTerm && {},
    });
    out.seconds += (performance.now() - started) / 1000;
    out.dae.push(
      metricValues(
        (rows, a, b) => trained.model.scores(sliceRows(rows, a, b)),
        scoreOn.input,
        scoreOn.heldOut,
        metrics,
      ),
    );
    trained.model.dispose();
    const lambda = chooseEaseLambdaOn(trainRows, selectOn, run.lambdas, run.selectionMetric).lambda;
    out.ease.push(metricValues(scorerOf(Ease.fit(trainRows, lambda)), scoreOn.input, scoreOn.heldOut, metrics));
    progress(
      `seed ${seed}: epoch ${trained.bestEpoch}, λ ${lambda} picked on ${selectOn.input.rows} users; on the other ${scoreOn.input.rows}: dae ${fmt(metricMeans(metrics, out.dae.at(-1)!))} | ease ${fmt(metricMeans(metrics, out.ease.at(-1)!))}`,
    );
  }
  return out;
}

/** λ by validation NDCG; without a validation split, on a validation carved from train. */
function chooseEaseLambda(
  s: EvaluationSplit,
  lambdas: number[],
  metric: MetricSpec,
  seed: number,
  carveShare: number,
): { lambda: number; value: number } {
  if (s.validation) return chooseEaseLambdaOn(s.train, s.validation, lambdas, metric);
  const carved = carveValidation(s.train, carveShare, createRng(seed + 1));
  return chooseEaseLambdaOn(carved.train, carved.validation, lambdas, metric);
}

function chooseEaseLambdaOn(
  fitOn: CsrMatrix,
  validation: ValidationSet,
  lambdas: number[],
  metric: MetricSpec,
): { lambda: number; value: number } {
  let best = { lambda: lambdas[0], value: -1 };
  for (const lambda of lambdas) {
    const value = evaluateRanking(scorerOf(Ease.fit(fitOn, lambda)), validation.input, validation.heldOut, [metric])[
      metric.name
    ];
    if (value > best.value) best = { lambda, value };
  }
  return best;
}

/** The held-out users in two random halves (seeded), each as fold-in and scored rows. */
function halveUsers(set: ValidationSet, seed: number): [ValidationSet, ValidationSet] {
  const order = shuffleInPlace(
    Int32Array.from({ length: set.input.rows }, (_, r) => r),
    createRng(seed + 2),
  );
  const half = (rows: Int32Array) => ({ input: selectRows(set.input, rows), heldOut: selectRows(set.heldOut, rows) });
  const cut = Math.ceil(order.length / 2);
  return [half(order.subarray(0, cut)), half(order.subarray(cut))];
}

function scorerOf(model: { scores(rows: CsrMatrix, start: number, end: number): Float32Array }): Scorer {
  return (rows, start, end) => model.scores(rows, start, end);
}

async function readLabeled(
  path: string,
  format: Parameters<typeof readInteractionFile>[1],
  minRating: number,
): Promise<LabeledInteractions> {
  const users = new IdIndex();
  const items = new IdIndex();
  const user: number[] = [],
    item: number[] = [],
    weight: number[] = [];
  for await (const row of readInteractionFile(path, format)) {
    if (row.weight < minRating) continue;
    user.push(users.intern(row.user));
    item.push(items.intern(row.item));
    weight.push(row.weight);
  }
  return { users, items, user: Int32Array.from(user), item: Int32Array.from(item), weight: Float32Array.from(weight) };
}

/** Every set of the split as user,item,weight CSV with the original ids, one directory per seed. */
function dumpSplit(dir: string, seed: number, s: EvaluationSplit): void {
  const out = join(dir, `seed-${seed}`);
  mkdirSync(out, { recursive: true });
  const write = (name: string, m: CsrMatrix, userIds: readonly string[]) => {
    const lines = ['user,item,weight'];
    for (let r = 0; r < m.rows; r++) {
      for (let q = m.indptr[r]; q < m.indptr[r + 1]; q++)
        lines.push(`${csv(userIds[r])},${csv(s.itemIds[m.indices[q]])},${m.values[q]}`);
    }
    writeFileSync(join(out, name), `${lines.join('\n')}\n`);
  };
  write('train.csv', s.train, s.trainUserIds);
  if (s.validation) {
    write('validation_fold_in.csv', s.validation.input, s.validation.userIds);
    write('validation_held_out.csv', s.validation.heldOut, s.validation.userIds);
  }
  write('test_fold_in.csv', s.test.input, s.test.userIds);
  write('test_held_out.csv', s.test.heldOut, s.test.userIds);
}

function csv(id: string): string {
  return /[",\n]/.test(id) ? `"${id.replace(/"/g, '""')}"` : id;
}

/** One entry per metric, by its name: `value(j)` of metric j. */
function byMetric<T>(metrics: readonly MetricSpec[], value: (j: number) => T): Record<string, T> {
  return Object.fromEntries(metrics.map((m, j) => [m.name, value(j)]));
}

/** Per metric, DAE - EASE paired over the users of every run (`values[run][metric][user]`). */
function daeMinusEase(metrics: readonly MetricSpec[], values: Record<'dae' | 'ease', Float64Array[][]>) {
  return byMetric(metrics, (j) => {
    const d = pairedDifference(
      values.dae.map((v) => v[j]),
      values.ease.map((v) => v[j]),
    );
    return { mean: round(d.mean, 5), se: round(d.se, 5), users: d.users };
  });
}

/** Per metric, the DAE's value of each user, runs in order. */
function daePerUser(metrics: readonly MetricSpec[], dae: Float64Array[][]): Record<string, number[]> {
  return byMetric(metrics, (j) => dae.flatMap((v) => [...v[j]].map((x) => round(x, 5))));
}

function summarize(runs: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(runs[0] ?? {})) {
    const xs = runs.map((r) => r[name]);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    out[name] = round(mean, 5);
    out[`${name}_std`] = round(std, 5);
  }
  return out;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) out[key] = o[key];
  return out;
}

function fmt(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(' ');
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function num(text: string, name: string): number {
  const x = Number(text);
  if (!Number.isFinite(x)) throw new UsageError(`--${name} must be a number`);
  return x;
}

function list(text: string, name: string): number[] {
  return text.split(',').map((t) => num(t.trim(), name));
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

runCli(main);
