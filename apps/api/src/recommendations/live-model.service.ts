import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { ExperimentEntity, ExperimentRepository, ModelVersionRepository } from '@app/database';
import { EmbeddingStoreRepository, experimentChangedChannel, modelActivatedChannel } from '@app/embedding-store';
import { InputSettings, NO_DECAY } from '@app/feedback';
import { DaeModel, deserializeModel, initBackend, ScoringPool } from '@app/model';
import { REDIS, RedisClient, subscriberOf } from '@app/redis';
import { inCanaryArm } from '@app/registry';
import { inSlices } from './in-slices';
import { ItemIndexCache } from './item-index-cache';

/** The active model as the API serves it: encoder in memory, decoder in the scoring threads, item ids indexed. */
export interface LiveModel {
  version: number;
  /** Encodes fold-ins on this thread (a sparse product: cheap). */
  model: DaeModel;
  /** Decodes and compares items, batched, on SCORING_THREADS threads. */
  scoring: ScoringPool;
  itemIds: readonly string[];
  itemIndex: ReadonlyMap<string, number>;
  /** Newest interaction time the model was trained on. */
  watermark: Date | null;
  /** How its training aged events (decay, retention): its fold-ins age them alike. */
  input: InputSettings;
  /**
   * The depth the version's top-item lists were ranked to at publish (its Redis meta), which a
   * fold-in's list keeps to; null when unknown. Not this process's CACHED_TOP_ITEMS: the two
   * may differ, and a list is complete only if it is shorter than the depth it was ranked to.
   */
  topItems: number | null;
  /** The depth of the items' precomputed nearest items in Redis (meta `similarItems`); null: none, or unknown. */
  similarItems: number | null;
  /**
   * The local copy of the version's item index, which its scoring threads rank through (a
   * catalogue of at least ANN_MIN_ITEMS items at its training); null: they score every item.
   */
  indexDir: string | null;
}

/** A running experiment as the API serves it: the canary's model beside the active one, and how users are drawn. */
export interface LiveExperiment {
  id: number;
  salt: string;
  traffic: number;
  canary: LiveModel;
}

/** Catches a switch whose pub/sub message was missed (e.g. Redis restarted): one indexed Postgres read. */
const POINTER_CHECK_MS = 10_000;
/** In-flight requests may still score with the old model for a moment after a switch. */
const DISPOSE_DELAY_MS = 30_000;

@Injectable()
export class LiveModelService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LiveModelService.name);
  private live: LiveModel | null = null;
  private experiment: LiveExperiment | null = null;
  /** Replaced models, kept a moment for requests still scoring with them. */
  private readonly retiring = new Set<LiveModel>();
  private shutDown = false;
  private loading: Promise<void> | null = null;
  private subscriber: RedisClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** A load has finished: the active version is in memory, or there was none. */
  private settled = false;

  constructor(
    private readonly versions: ModelVersionRepository,
    private readonly experiments: ExperimentRepository,
    private readonly store: EmbeddingStoreRepository,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly env: EnvVars,
    private readonly indexCache: ItemIndexCache,
  ) {}

  /** The ACTIVE version's model: what every answer comes from outside an experiment. */
  current(): LiveModel | null {
    return this.live;
  }

  /** The model that answers this user: the canary's when an experiment draws them into its arm, else the active one. */
  forUser(userId: string): LiveModel | null {
    const experiment = this.experiment;
    if (experiment && inCanaryArm(experiment.salt, experiment.traffic, userId)) return experiment.canary;
    return this.live;
  }

  /** The running experiment this process serves, if any. */
  currentExperiment(): LiveExperiment | null {
    return this.experiment;
  }

  /**
   * Whether this instance answers from a model: false from start until the first load finishes
   * (its answers meanwhile are popularity), true after, also when no model exists yet. A switch
   * that fails later leaves it ready, on the model it has.
   */
  ready(): boolean {
    return this.settled;
  }

  async onModuleInit(): Promise<void> {
    await initBackend(this.env.TFJS_BACKEND);
    // not awaited: a large model takes a while to load, and until it has, answers come from popularity
    void this.refresh().catch((err) => this.logger.warn(`no model loaded at start: ${(err as Error).message}`));
    // a dedicated connection: a subscribed client can do nothing else
    this.subscriber = subscriberOf(this.redis);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on(
      'message',
      () => void this.refresh().catch((err) => this.logger.error(`model switch failed: ${(err as Error).message}`)),
    );
    await this.subscriber.subscribe(modelActivatedChannel(), experimentChangedChannel()).catch(() => undefined);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), POINTER_CHECK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.shutDown = true;
    if (this.timer) clearInterval(this.timer);
    this.subscriber?.disconnect();
    // the live model and any old one still in its grace period: their threads must not outlive the app
    const held = [this.live, this.experiment?.canary].filter((m): m is LiveModel => m !== null && m !== undefined);
    // index copies stay for the next start: it reuses them rather than copy gigabytes again
    await Promise.all([...new Set([...this.retiring, ...held])].map((m) => this.retire(m, { keepIndexCopy: true })));
  }

  private async retire(live: LiveModel, { keepIndexCopy = false } = {}): Promise<void> {
    this.retiring.delete(live);
    await live.scoring.close().catch(() => undefined);
    live.model.dispose();
    // its index copy goes unless a model still served (the same version loaded again) views it
    const held = [this.live, this.experiment?.canary, ...this.retiring].some((m) => m?.version === live.version);
    if (live.indexDir && !held && !keepIndexCopy)
      await this.indexCache
        .remove(live.version)
        .catch((err) => this.logger.warn(`v${live.version}: its index copy stays: ${(err as Error).message}`));
  }

  /** Loads the active version if it is not the one in memory; requests keep the old one meanwhile. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  /**
   * Postgres says which version is live and which experiment runs; the Redis pointer and the
   * messages only say when to look, so a pointer left on a retired version (a switch whose Redis
   * write failed) is never served.
   */
  private async load(): Promise<void> {
    const [active, running] = await Promise.all([this.versions.findActive(), this.experiments.running()]);
    if (!this.settled) await this.pruneIndexCopies();
    await this.loadActive(active?.version ?? null);
    // ready on the active model: a canary that fails to load leaves its users on it
    this.settled = true;
    await this.loadExperiment(running);
  }

  private async loadActive(version: number | null): Promise<void> {
    if (version === null || version === this.live?.version) {
      // loaded while Redis was down: the list depths are learnt once Redis answers again
      if (this.live) await this.learnDepths(this.live);
      return;
    }
    // a promoted canary is in memory already: it becomes the active model without a second load
    const next = this.experiment?.canary.version === version ? this.experiment.canary : await this.loadVersion(version);
    if (!next) return;
    const previous = this.live;
    this.live = next; // one assignment: a request sees the old model or the new, never a mix
    if (next === this.experiment?.canary) this.experiment = null;
    this.logger.log(`serving model v${version}`);
    if (previous) this.retireLater(previous);
  }

  private async loadExperiment(running: ExperimentEntity | null): Promise<void> {
    const held = this.experiment;
    if (running && held?.id === running.id) {
      await this.learnDepths(held.canary);
      return;
    }
    if (!running || running.canaryVersion === this.live?.version) {
      this.experiment = null;
      // an ended experiment's canary: unless it just became the active model, requests drop it
      if (held && held.canary !== this.live) this.retireLater(held.canary);
      return;
    }
    const canary =
      held?.canary.version === running.canaryVersion ? held.canary : await this.loadVersion(running.canaryVersion);
    if (!canary) return;
    this.experiment = { id: running.id, salt: running.salt, traffic: running.traffic, canary };
    this.logger.log(`experiment ${running.id}: v${canary.version} answers ${running.traffic} of the users`);
    if (held && held.canary !== canary && held.canary !== this.live) this.retireLater(held.canary);
  }

  /** At start: index copies a previous run left of versions since retired or deleted. */
  private async pruneIndexCopies(): Promise<void> {
    const servable = (await this.versions.findComplete()).map((v) => v.version);
    const pruned = await this.indexCache.prune(servable).catch(() => []);
    if (pruned.length) this.logger.log(`removed the index copies of versions ${pruned.join(', ')}`);
  }

  private async learnDepths(model: LiveModel): Promise<void> {
    if (model.topItems !== null) return;
    const meta = await this.store.readMeta(model.version).catch(() => null);
    model.topItems = meta?.topItems ?? null;
    model.similarItems = meta?.similarItems ?? null;
  }

  private retireLater(model: LiveModel): void {
    this.retiring.add(model);
    setTimeout(() => void this.retire(model), DISPOSE_DELAY_MS).unref();
  }

  /** A version's weights into memory and its scoring threads; null if the load finished after shutdown began. */
  private async loadVersion(version: number): Promise<LiveModel | null> {
    const blob = await this.versions.weights(version);
    const row = await this.versions.find(version);
    if (!blob || !row) throw new Error(`version ${version} has no stored weights`);
    // Redis down: the depth stays unknown, and short lists count as incomplete (a decode, never a short answer)
    const meta = await this.store.readMeta(version).catch(() => null);
    // a large catalogue's index, copied to local disk for the threads to map; a failed copy fails the load
    const indexDir = await this.indexCache.dirOf(version, row.createdAt.toISOString());
    const loaded = deserializeModel(blob);
    const pool = {
      threads: this.env.SCORING_THREADS,
      backend: this.env.TFJS_BACKEND,
      maxQueue: this.env.SCORING_QUEUE_LIMIT,
      ...(indexDir && { indexDir }),
    };
    const scoring = await ScoringPool.start(loaded.model, blob, pool).catch((err) => {
      loaded.model.dispose();
      throw err;
    });
    const next: LiveModel = {
      version,
      model: loaded.model,
      scoring,
      itemIds: loaded.itemIds,
      itemIndex: await positionsOf(loaded.itemIds),
      watermark: row.dataWatermark,
      input: inputSettingsOfVersion(row.config),
      topItems: meta?.topItems ?? null,
      similarItems: meta?.similarItems ?? null,
      indexDir,
    };
    if (indexDir) this.logger.log(`v${version}: ranks through its item index (${indexDir})`);
    // a load that finished after shutdown started: nobody will serve it
    if (this.shutDown) {
      await this.retire(next);
      return null;
    }
    return next;
  }
}

/** Each id's position, mapped a slice at a time (a 1M-item Map built at once holds the request thread ~1 s). */
async function positionsOf(ids: readonly string[]): Promise<Map<string, number>> {
  const positions = new Map<string, number>();
  await inSlices(ids.length, (start, end) => {
    for (let i = start; i < end; i++) positions.set(ids[i], i);
  });
  return positions;
}

/** Model item indices of the ids the model knows, in their order. */
export function indicesOf(live: LiveModel, itemIds: readonly string[]): number[] {
  const out: number[] = [];
  for (const id of itemIds) {
    const i = live.itemIndex.get(id);
    if (i !== undefined) out.push(i);
  }
  return out;
}

/** A version's input settings as its training recorded them; a version trained before they existed aged nothing. */
function inputSettingsOfVersion(config: Record<string, unknown>): InputSettings {
  const recorded = config.feedback as Partial<InputSettings> | undefined;
  return {
    halfLifeDays: recorded?.halfLifeDays ?? NO_DECAY.halfLifeDays,
    retentionDays: recorded?.retentionDays ?? NO_DECAY.retentionDays,
  };
}
