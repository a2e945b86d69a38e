import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Gauge } from 'prom-client';
import { EnvVars } from '@app/config';
import {
  AnomalyRepository,
  CatalogueRepository,
  EpochPoint,
  isComplete,
  ModelIndexRepository,
  ModelMetrics,
  ModelStatus,
  ModelVersionEntity,
  ModelVersionRepository,
  TrainingDataRepository,
  TrainingLockRepository,
} from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import {
  buildInteractionMatrix,
  shuffleItemsPerUser,
  CsrMatrix,
  DaeConfig,
  DaeModel,
  DEFAULT_DAE_CONFIG,
  DEFAULT_TRAIN_OPTIONS,
  EmbeddingMap,
  fitEmbeddingMap,
  Popularity,
  reconstructionLoss,
  sampledReconstructionLoss,
  stratifiedSample,
  ScoringPool,
  serializeModel,
  trainModel,
  TUNED_ITEM_TERM_SPACE,
  TrainDaeOptions,
  trainSettings,
  TuneResult,
  tuneDae,
  DEFAULT_TUNE_SPACE,
  fixedIn,
  largeCatalogueTraining,
  withSettings,
} from '@app/model';
import { inputSettingsOf } from '@app/feedback';
import { TrainingConfig, TrainingProgress } from '@app/queue';
import { publishItems, SIMILAR_ITEMS_DEPTH } from './publish-items';
import { publishUsers } from './publish-users';
import { buildPublishIndex, PublishIndex, removePublishIndex, wantsIndex } from './publish-index';
import { ErasureRepository } from '@app/database';
import { leaveOutErased, PublishedUsers, unpublishErased } from './erased-users';
import { ModelRegistryService } from '@app/registry';
import { modelScorer, rankingFigures } from './held-out-metrics';
import { LiveModelGate } from './live-model-gate';
import { splitForTraining, TrainingSplit } from './training-split';

const DEFAULT_SEED = 1;
/** Rows per product when publishing ranks users: throughput, not latency, matters there. */
const PUBLISH_BATCH_ROWS = 64;

export class NothingToTrainError extends Error {}
/** Another worker is training: this job waits (it is not a failed attempt). */
export class TrainingBusyError extends Error {}

const phaseSeconds = new Gauge({
  name: 'recoder_training_phase_seconds',
  help: 'Seconds the last training spent per phase',
  labelNames: ['phase'],
});
const lastModelMetric = new Gauge({
  name: 'recoder_last_model_metric',
  help: 'Metrics of the last trained model on its held-out users',
  labelNames: ['metric'],
});

type Report = (progress: TrainingProgress) => Promise<void>;
type RunResult = { version: number; activated: boolean; reason: string };

/** One training run: load, train, publish, promote. Never touches the active version's keys. */
@Injectable()
export class TrainingService {
  private readonly logger = new Logger(TrainingService.name);

  constructor(
    private readonly data: TrainingDataRepository,
    private readonly versions: ModelVersionRepository,
    private readonly store: EmbeddingStoreRepository,
    private readonly registry: ModelRegistryService,
    private readonly anomalies: AnomalyRepository,
    private readonly catalogue: CatalogueRepository,
    private readonly liveGate: LiveModelGate,
    private readonly lock: TrainingLockRepository,
    private readonly env: EnvVars,
    private readonly erasures: ErasureRepository,
    private readonly indexes: ModelIndexRepository,
  ) {}

  /**
   * Runs the job under the training lock (one training across every worker), then sweeps what
   * failed or interrupted trainings left in Redis and repairs a pointer that diverged from Postgres.
   */
  async run(jobId: string, request: TrainingConfig, force: boolean, report: Report): Promise<RunResult> {
    const release = await this.lock.tryAcquire();
    if (!release) throw new TrainingBusyError('another worker is training');
    try {
      return await this.runLocked(jobId, request, force, report);
    } finally {
      await this.sweepLocked().catch((err) =>
        this.logger.warn(`sweep after training failed: ${(err as Error).message}`),
      );
      await release();
    }
  }

  /** The sweep, when no training runs anywhere (at worker start); false when one does. */
  async sweepIfIdle(): Promise<boolean> {
    const release = await this.lock.tryAcquire();
    if (!release) return false;
    try {
      await this.sweepLocked();
      return true;
    } finally {
      await release();
    }
  }

  private async sweepLocked(): Promise<void> {
    await this.registry.reconcilePointer();
    await this.registry.sweepLeftovers();
  }

  private async runLocked(jobId: string, request: TrainingConfig, force: boolean, report: Report): Promise<RunResult> {
    const version = await this.versions.startForJob(jobId, { ...request });
    if (isComplete(version.status)) return this.resume(version, force, report, request.canary);
    const v = version.version;
    // an unfinished version: a retried job may find keys its killed attempt left half-written
    await this.store.deleteVersion(v);
    const timings: Record<string, number> = {};
    const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await work();
      } finally {
        timings[phase] = +((performance.now() - started) / 1000).toFixed(3);
        phaseSeconds.set({ phase }, timings[phase]);
      }
    };
    try {
      await report({ phase: 'load', percent: 0, version: v });
      // recorded with the version: its fold-ins age events as its training did
      const feedback = inputSettingsOf(this.env);
      const data = await timed('load', () => this.data.loadAll(feedback));
      if (data.user.length === 0)
        throw new NothingToTrainError(
          data.events === 0
            ? 'There are no interactions to train on: record some first'
            : `None of the ${data.events} interactions is a POSITIVE event within the retention window: nothing to train on`,
        );
      // popularity, counted from the rows just read: the API's cold-start answers use it
      await this.catalogue.replacePopularity(data.itemIds, itemCounts(data.item, data.itemIds.length));
      const { matrix, users, items } = buildInteractionMatrix({ ...data, duplicates: 'max' });

      const { config, options } = this.resolveConfig(request, items.size);
      await this.versions.update(v, {
        config: {
          ...config,
          ...options,
          ...(request.canary !== undefined && { canary: request.canary }),
          ...(request.shuffleItems && { shuffleItems: true }),
          feedback: { ...feedback, rulesRevision: data.rulesRevision, events: data.events },
        },
        users: users.size,
        items: items.size,
        interactions: String(data.user.length),
        dataWatermark: data.watermark,
        dataSnapshot: data.dataSnapshot,
      });

      // gate users are left out of training and early stopping: the version's metrics and the gate score them
      // a control trained on scrambled histories; users are still published (and folded in) from their true ones
      const trainOn = request.shuffleItems
        ? buildInteractionMatrix({
            ...data,
            item: shuffleItemsPerUser(data.user, data.item, users.size, items.size, options.seed),
            duplicates: 'max',
          }).matrix
        : matrix;
      const split = splitForTraining(trainOn, options.seed);
      const tuneBudget = request.tune?.budgetSeconds ?? this.env.TRAIN_TUNE_BUDGET;
      if (tuneBudget) {
        const tuneStarted = performance.now();
        const tuned = await timed('tune', () =>
          tuneDae(
            split.train,
            split.earlyStopping,
            { config: { ...DEFAULT_DAE_CONFIG, ...config }, options },
            {
              budgetSeconds: tuneBudget,
              // the search chooses only what the request leaves open
              space: fixedIn(DEFAULT_TUNE_SPACE, request),
              onTrial: (t) =>
                report({
                  phase: 'tune',
                  percent: 5 * Math.min(1, (performance.now() - tuneStarted) / 1000 / tuneBudget),
                  ndcg: t.ndcg,
                  version: v,
                }),
            },
          ),
        );
        Object.assign(config, withSettings({ ...DEFAULT_DAE_CONFIG, ...config }, tuned.settings));
        Object.assign(options, trainSettings(tuned.settings));
        await this.versions.update(v, {
          config: { ...(await this.versions.find(v))!.config, ...config, ...options, tune: summarizeTune(tuned) },
        });
      }
      const lossCurve: EpochPoint[] = [];
      // the autoencoder, then the linear item term chosen on the same early-stopping users
      const result = await timed('train', () =>
        trainModel(split.train, config, {
          ...options,
          // a tuned retrain searches the term's dropout and λ more finely too
          itemTerm: request.itemTerm !== false && {
            maxItems: this.env.ITEM_TERM_MAX_ITEMS,
            ...(tuneBudget && TUNED_ITEM_TERM_SPACE),
          },
          validation: split.earlyStopping,
          onEpoch: async (e) => {
            lossCurve.push({ epoch: e.epoch, loss: e.loss, ndcg: e.ndcg, seconds: e.seconds });
            await this.versions.update(v, { lossCurve });
            await report({
              phase: 'train',
              percent: 5 + (80 * e.epoch) / options.epochs,
              epoch: e.epoch,
              epochs: options.epochs,
              loss: e.loss,
              ndcg: e.ndcg,
              version: v,
            });
            // let BullMQ renew the job lock between epochs: training is CPU-bound
            await new Promise((resolve) => setImmediate(resolve));
          },
        }),
      );
      const model = result.model;
      if (result.itemTerm)
        await this.versions.update(v, {
          config: { ...(await this.versions.find(v))!.config, itemTerm: result.itemTerm },
        });
      let metrics: ModelMetrics;
      try {
        // scoring held-out users' full rows: minutes at a million items, so a phase of its own
        await report({ phase: 'evaluate', percent: 85, version: v });
        metrics = await timed('evaluate', () => Promise.resolve(this.metrics(model, split)));
        for (const metric of ['ndcg100', 'recall20', 'recall50'] as const)
          lastModelMetric.set({ metric }, metrics[metric]);
        const blob = serializeModel(model, { itemIds: items.ids() });
        await this.versions.saveWeights(v, blob);
        await this.versions.update(v, { metrics, backend: result.backend.backend, trainedAt: new Date() });

        // a large catalogue's item index, stored before the version is READY: publishing ranks through it
        const index = wantsIndex(items.size, this.env.ANN_MIN_ITEMS)
          ? await timed('index', () => this.buildIndex(v, model, report))
          : null;
        const publishFrom = index ? 88 : 85;
        // users erased since the data was read are not published, nor those erased while it publishes
        let published: PublishedUsers;
        try {
          await report({ phase: 'publish', percent: publishFrom, version: v });
          published = await leaveOutErased(this.erasures, data.snapshot, { matrix, userIds: users.ids() });
          await timed('publish', () =>
            this.publish(v, model, index, published.matrix, published.userIds, items.ids(), blob, {
              users: (done) =>
                report({
                  phase: 'publish',
                  percent: publishFrom + ((93 - publishFrom) * done) / published.userIds.length,
                  version: v,
                }),
              items: (done, of) => report({ phase: 'publish', percent: 93 + (2 * done) / of, version: v }),
            }),
          );
        } finally {
          if (index) await removePublishIndex(index);
        }
        await unpublishErased(
          { erasures: this.erasures, store: this.store, anomalies: this.anomalies },
          v,
          data.snapshot,
          published.userIds,
        );
        // complete only now: a retry leaves a READY version as it is, and retention counts it
        await this.versions.update(v, { status: ModelStatus.READY });
      } finally {
        model.dispose();
      }

      await report({ phase: 'promote', percent: 95, version: v });
      const promotion = await timed('promote', () =>
        this.promote(v, split, items.ids(), metrics, force, request.canary),
      );
      await this.versions.update(v, { timings });
      await report({ phase: 'done', percent: 100, version: v });
      this.logger.log(
        `v${v}: ${promotion.activated ? 'activated' : 'kept inactive'} (${promotion.reason}); phases ${JSON.stringify(timings)}`,
      );
      return { version: v, activated: promotion.activated, reason: promotion.reason };
    } catch (err) {
      // Redis or Postgres may be down too: then the sweep after a later training removes what is left
      await this.cleanUp(version, timings).catch((e) =>
        this.logger.warn(`v${v}: clean-up failed: ${(e as Error).message}`),
      );
      throw err;
    }
  }

  /**
   * A retried job whose version is complete: promotion is what may be left (the attempt stopped
   * between publish and promote); a version activated once, or refused by the gate, is left as it is.
   */
  private async resume(
    version: ModelVersionEntity,
    force: boolean,
    report: Report,
    canary: number | undefined,
  ): Promise<RunResult> {
    const v = version.version;
    if (version.status === ModelStatus.RETIRED || ModelRegistryService.decided(version)) {
      await report({ phase: 'done', percent: 100, version: v });
      return {
        version: v,
        activated: version.status === ModelStatus.ACTIVE,
        reason: `v${v} was complete already (${version.status})`,
      };
    }
    await report({ phase: 'promote', percent: 95, version: v });
    const promotion = await this.registry.promote(version, force, canary);
    await report({ phase: 'done', percent: 100, version: v });
    this.logger.log(
      `v${v}: resumed at promote, ${promotion.activated ? 'activated' : 'kept inactive'} (${promotion.reason})`,
    );
    return { version: v, activated: promotion.activated, reason: promotion.reason };
  }

  /** After the last attempt: the error is recorded on the version row; a complete version keeps its status. */
  async markFailed(jobId: string, error: string): Promise<void> {
    const version = await this.versions.findByJob(jobId);
    if (version && !isComplete(version.status)) {
      await this.versions.update(version.version, { status: ModelStatus.FAILED, error });
    }
  }

  /** After a failed attempt: an unfinished version's keys, anomalies and weights go; a complete one is left alone. */
  private async cleanUp(version: ModelVersionEntity, timings: Record<string, number>): Promise<void> {
    const now = await this.versions.find(version.version);
    if (now && isComplete(now.status)) {
      await this.versions.update(version.version, { timings });
      return;
    }
    await this.store.deleteVersion(version.version);
    await this.anomalies.deleteForVersions([version.version]);
    await this.versions.clearWeights(version.version);
    await this.versions.update(version.version, { status: ModelStatus.TRAINING, timings });
  }

  /** The item index (phase `index`, 85 to 88 %) on the training threads, which are done. */
  private async buildIndex(version: number, model: DaeModel, report: Report): Promise<PublishIndex> {
    await report({ phase: 'index', percent: 85, version });
    const built = await buildPublishIndex(this.indexes, version, model, this.env.TRAIN_THREADS, (done, of) => {
      // progress only: a lost update is no reason to fail the build
      report({ phase: 'index', percent: 85 + (3 * done) / of, version }).catch(() => undefined);
    });
    this.logger.log(`v${version}: item index of ${built.index.items} items stored`);
    return built;
  }

  /** The library's defaults (what `evaluate` measures), then the environment's, then the request's. */
  private resolveConfig(
    request: TrainingConfig,
    items: number,
  ): { config: Partial<DaeConfig>; options: TrainDaeOptions } {
    const hidden = request.hidden ?? DEFAULT_DAE_CONFIG.hidden;
    const width = request.embeddingDim ?? this.env.EMBEDDING_DIM;
    // large catalogues: sampled negatives, and a narrower default width (libs/model large-catalogue.ts)
    const large = largeCatalogueTraining(items, this.env.SAMPLED_TRAINING_MIN_ITEMS, { hidden }, width);
    const config: Partial<DaeConfig> = {
      ...DEFAULT_DAE_CONFIG,
      ...(large && { embeddingDim: large.embeddingDim }),
      ...(width !== undefined && { embeddingDim: width }),
      hidden,
      ...(request.loss && { loss: request.loss }),
      ...(request.activation && { activation: request.activation }),
      input: request.input ?? this.env.TRAIN_INPUT,
      items,
    };
    const options: TrainDaeOptions = {
      ...DEFAULT_TRAIN_OPTIONS,
      seed: request.seed ?? DEFAULT_SEED,
      threads: this.env.TRAIN_THREADS,
      sampledNegatives: large?.sampledNegatives ?? 0,
      backend: this.env.TFJS_BACKEND,
      ...(this.env.TRAIN_EPOCHS !== undefined && { epochs: this.env.TRAIN_EPOCHS }),
      ...(request.epochs !== undefined && { epochs: request.epochs }),
      ...(request.dropout !== undefined && { dropout: request.dropout }),
      ...(request.learningRate !== undefined && { learningRate: request.learningRate }),
      ...(request.weightDecay !== undefined && { weightDecay: request.weightDecay }),
      ...(request.batchSize !== undefined && { batchSize: request.batchSize }),
      ...(request.patience !== undefined && { patience: request.patience }),
    };
    return { config, options };
  }

  /** On the gate users; popularity is fitted on the training rows only, as the model was. */
  private metrics(model: DaeModel, split: TrainingSplit): ModelMetrics {
    const popularity = Popularity.fit(split.train);
    return {
      ...rankingFigures(modelScorer(model), split.gate),
      popularity: rankingFigures((rows, start, end) => popularity.scores(rows, start, end), split.gate),
      heldOutUsers: split.gate.input.rows,
      validationUsers: split.earlyStopping.input.rows,
    };
  }

  /** The live model is scored on the candidate's gate users first, so the registry compares figures of the same users. */
  private async promote(
    version: number,
    split: TrainingSplit,
    itemIds: readonly string[],
    metrics: ModelMetrics,
    force: boolean,
    canary: number | undefined,
  ) {
    const gate = await this.liveGate.compare(split.gate, itemIds, metrics.ndcg100);
    if (gate) await this.versions.update(version, { metrics: { ...metrics, gate } });
    return this.registry.promote((await this.versions.find(version))!, force, canary);
  }

  /** Every user's embedding (from all their items) and every item's vector, then the meta that completes the version. */
  private async publish(
    version: number,
    model: DaeModel,
    index: PublishIndex | null,
    matrix: CsrMatrix,
    userIds: readonly string[],
    itemIds: readonly string[],
    blob: Buffer,
    progress: { users: (done: number) => Promise<void>; items: (done: number, of: number) => Promise<void> },
  ): Promise<void> {
    const dim = model.embeddingDim;
    const { CACHED_TOP_ITEMS, PRECOMPUTED_SIMILAR_ITEMS } = this.env;
    // the training threads are done: rank on as many scoring threads (with one, this thread ranks)
    const threads = this.env.TRAIN_THREADS;
    let userMap: EmbeddingMap | null = null;
    let similarItems: number | null = null;
    let items: { dim: number; vectors: Float32Array };
    const ranks = CACHED_TOP_ITEMS > 0 || PRECOMPUTED_SIMILAR_ITEMS > 0;
    // with an index, top lists and similar items take their candidates from it: in the threads, or
    // here when there are none (a second model here would only hold the layers twice)
    const pooled = threads > 1 && ranks;
    const ranking = index && !pooled ? model.withIndex(index.index) : model;
    let scoring: ScoringPool | undefined;
    try {
      if (pooled)
        scoring = await ScoringPool.start(model, blob, {
          threads,
          backend: this.env.TFJS_BACKEND,
          maxBatch: PUBLISH_BATCH_ROWS,
          ...(index && { indexDir: index.dir }),
        });
      userMap = await publishUsers(
        this.store,
        version,
        ranking,
        matrix,
        userIds,
        CACHED_TOP_ITEMS,
        progress.users,
        scoring,
      );
      items = model.itemEmbeddings();
      similarItems = await publishItems(
        this.store,
        version,
        ranking,
        matrix,
        itemIds,
        items,
        PRECOMPUTED_SIMILAR_ITEMS,
        SIMILAR_ITEMS_DEPTH,
        progress.items,
        scoring,
      );
    } finally {
      await scoring?.close();
      if (ranking !== model) ranking.dispose();
    }
    // how surprising each user's own history is to the model: the anomaly score. With an index
    // (a catalogue too large to score whole per user) its softmax's partition function is
    // estimated from a sample of each item cluster
    const clusters = index?.index.clusters?.scores;
    const losses = clusters
      ? sampledReconstructionLoss(model, matrix, stratifiedSample(clusters.offsets, clusters.members))
      : reconstructionLoss(model, matrix);
    await this.anomalies.replaceForVersion(version, userIds, losses);
    // items are compared by cosine (similarItems): their map is of directions
    const itemMap = fitEmbeddingMap(items.vectors, items.dim, { normalize: true });
    if (userMap) await this.store.writeMap(version, 'user', userMap);
    if (itemMap) await this.store.writeMap(version, 'item', itemMap);
    await this.store.writeMeta(version, {
      dim,
      itemDim: items.dim,
      users: userIds.length,
      items: itemIds.length,
      trainedAt: new Date().toISOString(),
      modelHash: modelHash(blob),
      topItems: CACHED_TOP_ITEMS,
      similarItems,
    });
  }
}

/** Stored with the version: what the search chose and every trial it ran. */
function summarizeTune(t: TuneResult): Record<string, unknown> {
  return {
    budgetSeconds: t.budgetSeconds,
    seconds: t.seconds,
    candidates: t.candidates,
    chosen: t.settings,
    trials: t.trials.map((x) => ({
      ...x.settings,
      rung: x.rung,
      epochs: x.epochs,
      ndcg: +x.ndcg.toFixed(5),
      bestEpoch: x.bestEpoch,
      seconds: +x.seconds.toFixed(2),
    })),
  };
}

export const modelHash = (blob: Buffer): string => createHash('sha256').update(blob).digest('hex').slice(0, 16);

/** Interactions per item (dense index), duplicates included: what popularity ranks by. */
function itemCounts(item: Int32Array, items: number): Float64Array {
  const counts = new Float64Array(items);
  for (let k = 0; k < item.length; k++) counts[item[k]]++;
  return counts;
}
