import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EnvVars } from '@app/config';
import {
  AnomalyRepository,
  DataSnapshot,
  ExperimentConflict,
  ExperimentEntity,
  ExperimentOutcome,
  ExperimentRepository,
  InteractionRepository,
  ModelStatus,
  ModelVersionEntity,
  ModelVersionRepository,
} from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';

export class RegistryError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'NOT_READY' | 'CONFLICT',
    message: string,
  ) {
    super(message);
  }
}

/** How a refusal of the gate starts its `error`: a retried job finds its version already decided. */
export const GATE_REFUSAL = 'not activated: ';

/**
 * Rows created this long before a training's read snapshot are looked at even when no transaction
 * was open then: a transaction of a role whose start pg_stat_activity hid (see DataSnapshot.openSince).
 */
const IN_FLIGHT_MARGIN_MS = 60_000;

export interface PromotionResult {
  activated: boolean;
  reason: string;
  retired: number[];
  /** The experiment it started instead of switching everyone (a canary retrain), if any. */
  experiment?: ExperimentEntity;
}

/** Which model is live: the quality gate, the atomic switch, rollback and retention of old versions. */
@Injectable()
export class ModelRegistryService {
  private readonly logger = new Logger(ModelRegistryService.name);

  constructor(
    private readonly versions: ModelVersionRepository,
    private readonly store: EmbeddingStoreRepository,
    private readonly anomalies: AnomalyRepository,
    private readonly interactions: InteractionRepository,
    private readonly experiments: ExperimentRepository,
    private readonly env: EnvVars,
  ) {}

  /** Whether a complete version's promotion already happened: activated once, made a canary, or refused by the gate. */
  static decided(version: ModelVersionEntity): boolean {
    return (
      version.activatedAt !== null ||
      version.status === ModelStatus.CANARY ||
      (version.error ?? '').startsWith(GATE_REFUSAL)
    );
  }

  /**
   * Activates a freshly trained version if it is not worse than the live one by more than the
   * tolerance; with `canary` (a share of users), starts an experiment of it beside the live one
   * instead (the first model has nothing beside it: it is activated).
   */
  async promote(candidate: ModelVersionEntity, force: boolean, canary?: number): Promise<PromotionResult> {
    const active = await this.versions.findActive();
    const gate = this.gate(candidate, active, force);
    if (!gate.pass) {
      await this.versions.update(candidate.version, {
        status: ModelStatus.READY,
        error: `${GATE_REFUSAL}${gate.reason}`,
      });
      return { activated: false, reason: gate.reason, retired: await this.retireOld() };
    }
    if (canary !== undefined && active) {
      await this.endExperiment(ExperimentOutcome.ABORTED, `replaced by v${candidate.version}'s experiment`);
      const experiment = await this.startExperiment(candidate.version, canary);
      const reason = `${gate.reason}; a canary for ${canary} of the users`;
      return { activated: false, reason, retired: await this.retireOld(), experiment };
    }
    await this.endExperiment(ExperimentOutcome.ABORTED, `v${candidate.version} was activated by a training`);
    await this.switchTo(candidate.version);
    return { activated: true, reason: gate.reason, retired: await this.retireOld() };
  }

  /**
   * Starts an experiment: the READY `version` becomes CANARY and answers `traffic` of the users
   * (drawn by a hash of their id, salted afresh) beside the ACTIVE version. Postgres first; the
   * Redis key and its message only tell processes to look.
   */
  async startExperiment(version: number, traffic: number): Promise<ExperimentEntity> {
    if (!(traffic > 0 && traffic < 1)) throw new RegistryError('CONFLICT', `traffic must be above 0 and below 1`);
    const target = await this.versions.find(version);
    if (!target) throw new RegistryError('NOT_FOUND', `No model version ${version}`);
    if (target.status !== ModelStatus.READY)
      throw new RegistryError(
        'NOT_READY',
        `Version ${version} is ${target.status}; only a READY version can be a canary`,
      );
    const active = await this.versions.findActive();
    if (!active)
      throw new RegistryError('NOT_READY', 'No version is ACTIVE: activate one before starting an experiment');
    if (!(await this.store.readMeta(version)))
      throw new RegistryError('NOT_READY', `Version ${version} has no embeddings in Redis any more; retrain instead`);
    let experiment: ExperimentEntity;
    try {
      experiment = await this.experiments.start(active.version, version, traffic, randomUUID());
    } catch (err) {
      if (err instanceof ExperimentConflict) throw new RegistryError('CONFLICT', err.message);
      throw err;
    }
    // users who recorded something since its training read its data: fold them in on their next answer
    await this.flagRecordedSinceTraining(target);
    await this.store.setCanary(version);
    await this.flagRecordedSinceTraining(target);
    this.logger.log(
      `experiment ${experiment.id}: v${version} answers ${traffic} of the users beside v${active.version}`,
    );
    return experiment;
  }

  /** The canary becomes ACTIVE for everyone; the previous version READY, kept or retired as usual. */
  async promoteExperiment(): Promise<ExperimentEntity> {
    const ended = await this.experiments.end(ExperimentOutcome.PROMOTED, 'promoted');
    if (!ended) throw new RegistryError('NOT_FOUND', 'No experiment is running');
    await this.switchTo(ended.canaryVersion);
    await this.store.setCanary(null);
    await this.retireOld();
    return ended;
  }

  /** Every user goes back to the ACTIVE version; the canary is READY again (kept or retired as usual). */
  async abortExperiment(): Promise<ExperimentEntity> {
    const ended = await this.endExperiment(ExperimentOutcome.ABORTED, 'aborted');
    if (!ended) throw new RegistryError('NOT_FOUND', 'No experiment is running');
    await this.retireOld();
    return ended;
  }

  private async endExperiment(outcome: ExperimentOutcome, reason: string): Promise<ExperimentEntity | null> {
    const ended = await this.experiments.end(outcome, reason);
    if (!ended) return null;
    await this.store.setCanary(null);
    this.logger.log(`experiment ${ended.id} ended: ${reason}`);
    return ended;
  }

  /**
   * Rollback (or forward) to a version whose keys are still in Redis. Asked for the version
   * Postgres already calls ACTIVE, it sets the Redis pointer (and its message) again: the repair
   * of a pointer that diverged (e.g. Redis was down at the switch).
   */
  async activate(version: number): Promise<ModelVersionEntity> {
    const target = await this.versions.find(version);
    if (!target) throw new RegistryError('NOT_FOUND', `No model version ${version}`);
    // activating the canary is promoting it
    if (target.status === ModelStatus.CANARY) {
      await this.promoteExperiment();
      return (await this.versions.find(version))!;
    }
    if (target.status !== ModelStatus.READY && target.status !== ModelStatus.ACTIVE) {
      throw new RegistryError(
        'NOT_READY',
        `Version ${version} is ${target.status}; only a READY or ACTIVE version can be activated`,
      );
    }
    if (!(await this.store.readMeta(version))) {
      throw new RegistryError('NOT_READY', `Version ${version} has no embeddings in Redis any more; retrain instead`);
    }
    // a rollback (or forward) ends a running experiment: everyone gets the version asked for
    if (target.status !== ModelStatus.ACTIVE)
      await this.endExperiment(ExperimentOutcome.ABORTED, `v${version} was activated`);
    await this.switchTo(version);
    return (await this.versions.find(version))!;
  }

  private gate(
    candidate: ModelVersionEntity,
    active: ModelVersionEntity | null,
    force: boolean,
  ): { pass: boolean; reason: string } {
    if (force) return { pass: true, reason: 'forced' };
    if (!active) return { pass: true, reason: 'first model' };
    const { was, now, on } = this.compared(candidate, active);
    const tolerance = this.env.QUALITY_TOLERANCE;
    if (now + tolerance < was) {
      return {
        pass: false,
        reason: `NDCG@100 ${now.toFixed(4)} is worse than the active v${active.version}'s ${was.toFixed(4)} ${on} by more than ${tolerance}`,
      };
    }
    return { pass: true, reason: `NDCG@100 ${now.toFixed(4)} vs active v${active.version}'s ${was.toFixed(4)} ${on}` };
  }

  /**
   * Both models' NDCG@100 on the candidate's held-out users, as the training job measured them. Only
   * when it could not score the live model (no weights), or another version went live meanwhile, the
   * stored figures, which were measured on other users.
   */
  private compared(
    candidate: ModelVersionEntity,
    active: ModelVersionEntity,
  ): { was: number; now: number; on: string } {
    const gate = candidate.metrics?.gate;
    if (gate?.liveVersion === active.version)
      return { was: gate.liveNdcg100, now: gate.candidateNdcg100, on: `on the same ${gate.users} held-out users` };
    return {
      was: active.metrics?.ndcg100 ?? 0,
      now: candidate.metrics?.ndcg100 ?? 0,
      on: 'as stored (measured on other users)',
    };
  }

  /**
   * Postgres first (the truth every process serves), the Redis pointer and its message last (the
   * hint to look). The users who recorded something since the version's training read its data are
   * flagged stale in it before and after the pointer moves: until it has, the API flags the old one.
   */
  private async switchTo(version: number): Promise<void> {
    const row = await this.versions.find(version);
    if (row?.status !== ModelStatus.ACTIVE) await this.versions.activate(version);
    await this.flagRecordedSinceTraining(row!);
    await this.store.setActive(version);
    await this.flagRecordedSinceTraining(row!);
    this.logger.log(`model v${version} is active`);
  }

  /** Makes the Redis pointers say what Postgres says (a switch whose pointer write failed leaves them apart). */
  async reconcilePointer(): Promise<number | null> {
    const active = await this.versions.findActive();
    if (active && (await this.store.activeVersion()) !== active.version) {
      await this.switchTo(active.version);
      this.logger.warn(`the Redis pointer was repaired to v${active.version}, the version Postgres calls ACTIVE`);
    }
    const canary = (await this.experiments.running())?.canaryVersion ?? null;
    if ((await this.store.canaryVersion()) !== canary) await this.store.setCanary(canary);
    return active?.version ?? null;
  }

  private async flagRecordedSinceTraining(version: ModelVersionEntity): Promise<void> {
    const snapshot = version.dataSnapshot;
    // a version trained before snapshots were recorded: everyone who recorded anything since its training began
    const users = snapshot
      ? await this.interactions.usersRecordedAfter(snapshot, rowsFrom(snapshot))
      : await this.interactions.usersRecordedSince(new Date(version.createdAt.getTime() - IN_FLIGHT_MARGIN_MS));
    await this.store.markUsersStale(version.version, users);
  }

  /**
   * Deletes the keys (and anomaly rows, weights and item index) of every version that is not complete and
   * kept: failed and interrupted trainings, retired versions, versions Postgres does not know.
   * Only while no training runs (the caller holds the training lock): a TRAINING version is then
   * one whose worker died.
   */
  async sweepLeftovers(): Promise<number[]> {
    const kept = new Set((await this.versions.findComplete()).map((v) => v.version));
    const unfinished = (await this.versions.findUnfinished()).map((v) => v.version);
    const inRedis = await this.store.versionsInRedis();
    const swept = [...new Set([...inRedis, ...unfinished])].filter((v) => !kept.has(v)).sort((a, b) => a - b);
    for (const version of swept) await this.store.deleteVersion(version);
    if (swept.length) await this.anomalies.deleteForVersions(swept);
    for (const version of unfinished) await this.versions.clearWeights(version);
    if (swept.length) this.logger.log(`swept the keys of unfinished or retired versions ${swept.join(', ')}`);
    return swept;
  }

  /** Keeps the active version and the newest READY ones up to KEEP_VERSIONS; deletes the others' keys. */
  private async retireOld(): Promise<number[]> {
    const all = await this.versions.list(1000);
    const keep = [
      ...all.filter((v) => v.status === ModelStatus.ACTIVE),
      ...all.filter((v) => v.status === ModelStatus.READY),
    ]
      .slice(0, this.env.KEEP_VERSIONS)
      .map((v) => v.version);
    const retired = await this.versions.retireAllBut(keep);
    for (const version of retired) await this.store.deleteVersion(version);
    if (retired.length) await this.anomalies.deleteForVersions(retired);
    return retired;
  }
}

/**
 * Where rows the snapshot missed may start (a row's created_at is its transaction's start): at the
 * oldest transaction open at the read, however long before it began (a bulk import may have run
 * for minutes), and at least the margin before the read.
 */
function rowsFrom(snapshot: DataSnapshot): Date {
  const margin = Date.parse(snapshot.at) - IN_FLIGHT_MARGIN_MS;
  return new Date(snapshot.openSince ? Math.min(Date.parse(snapshot.openSince), margin) : margin);
}
