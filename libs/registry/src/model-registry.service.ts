import { Injectable, Logger } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { AnomalyRepository, ModelStatus, ModelVersionEntity, ModelVersionRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';

export class RegistryError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'NOT_READY',
    message: string,
  ) {
    super(message);
  }
}

export interface PromotionResult {
  activated: boolean;
  reason: string;
  retired: number[];
}

/** Which model is live: the quality gate, the atomic switch, rollback and retention of old versions. */
@Injectable()
export class ModelRegistryService {
  private readonly logger = new Logger(ModelRegistryService.name);

  constructor(
    private readonly versions: ModelVersionRepository,
    private readonly store: EmbeddingStoreRepository,
    private readonly anomalies: AnomalyRepository,
    private readonly env: EnvVars,
  ) {}

  /** Activates a freshly trained version if it is not worse than the live one by more than the tolerance. */
  async promote(candidate: ModelVersionEntity, force: boolean): Promise<PromotionResult> {
    const active = await this.versions.findActive();
    const gate = this.gate(candidate, active, force);
    if (!gate.pass) {
      await this.versions.update(candidate.version, { status: ModelStatus.READY, error: `not activated: ${gate.reason}` });
      return { activated: false, reason: gate.reason, retired: await this.retireOld() };
    }
    await this.switchTo(candidate.version);
    return { activated: true, reason: gate.reason, retired: await this.retireOld() };
  }

  /** Rollback (or forward) to a version whose keys are still in Redis. */
  async activate(version: number): Promise<ModelVersionEntity> {
    const target = await this.versions.find(version);
    if (!target) throw new RegistryError('NOT_FOUND', `No model version ${version}`);
    if (target.status === ModelStatus.ACTIVE) return target;
    if (target.status !== ModelStatus.READY) {
      throw new RegistryError('NOT_READY', `Version ${version} is ${target.status}; only a READY version can be activated`);
    }
    if (!(await this.store.readMeta(version))) {
      throw new RegistryError('NOT_READY', `Version ${version} has no embeddings in Redis any more; retrain instead`);
    }
    await this.switchTo(version);
    return (await this.versions.find(version))!;
  }

  private gate(candidate: ModelVersionEntity, active: ModelVersionEntity | null, force: boolean): { pass: boolean; reason: string } {
    if (force) return { pass: true, reason: 'forced' };
    if (!active) return { pass: true, reason: 'first model' };
    const { was, now, on } = this.compared(candidate, active);
    const tolerance = this.env.QUALITY_TOLERANCE;
    if (now + tolerance < was) {
      return { pass: false, reason: `NDCG@100 ${now.toFixed(4)} is worse than the active v${active.version}'s ${was.toFixed(4)} ${on} by more than ${tolerance}` };
    }
    return { pass: true, reason: `NDCG@100 ${now.toFixed(4)} vs active v${active.version}'s ${was.toFixed(4)} ${on}` };
  }

  /**
   * Both models' NDCG@100 on the candidate's held-out users, as the training job measured them. Only
   * when it could not score the live model (no weights), or another version went live meanwhile, the
   * stored figures, which were measured on other users.
   */
  private compared(candidate: ModelVersionEntity, active: ModelVersionEntity): { was: number; now: number; on: string } {
    const gate = candidate.metrics?.gate;
    if (gate?.liveVersion === active.version) return { was: gate.liveNdcg100, now: gate.candidateNdcg100, on: `on the same ${gate.users} held-out users` };
    return { was: active.metrics?.ndcg100 ?? 0, now: candidate.metrics?.ndcg100 ?? 0, on: 'as stored (measured on other users)' };
  }

  // Postgres first, the Redis pointer last: a reader following recoder:active only ever finds a complete version
  private async switchTo(version: number): Promise<void> {
    await this.versions.activate(version);
    await this.store.setActive(version);
    this.logger.log(`model v${version} is active`);
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
