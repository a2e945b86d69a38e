import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { ExperimentEntity, ExperimentOutcome, ModelStatus, ModelVersionEntity } from '../entities';

/** Why starting an experiment was refused, for the registry to name. */
export class ExperimentConflict extends Error {}

/**
 * Experiments and the version statuses they change, each in one transaction with its row: a
 * process that reads Postgres sees an experiment and its CANARY together, or neither.
 */
@Injectable()
export class ExperimentRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  running(): Promise<ExperimentEntity | null> {
    return this.db.getRepository(ExperimentEntity).findOneBy({ endedAt: IsNull() });
  }

  find(id: number): Promise<ExperimentEntity | null> {
    return this.db.getRepository(ExperimentEntity).findOneBy({ id });
  }

  /** The newest first. */
  list(limit: number): Promise<ExperimentEntity[]> {
    return this.db.getRepository(ExperimentEntity).find({ order: { id: 'DESC' }, take: limit });
  }

  /** The READY `canary` becomes CANARY beside the ACTIVE `control`; refused if either moved meanwhile. */
  async start(control: number, canary: number, traffic: number, salt: string): Promise<ExperimentEntity> {
    return this.db.transaction(async (tx) => {
      const versions = tx.getRepository(ModelVersionEntity);
      const experiments = tx.getRepository(ExperimentEntity);
      // the row lock orders two starts: the second finds the first's experiment
      if (await experiments.findOne({ where: { endedAt: IsNull() }, lock: { mode: 'pessimistic_write' } }))
        throw new ExperimentConflict('an experiment is running already: promote or abort it first');
      const moved = await versions.update({ version: canary, status: ModelStatus.READY }, { status: ModelStatus.CANARY });
      if (moved.affected !== 1) throw new ExperimentConflict(`version ${canary} is no longer READY`);
      if (!(await versions.findOneBy({ version: control, status: ModelStatus.ACTIVE })))
        throw new ExperimentConflict(`version ${control} is no longer ACTIVE`);
      return experiments.save(experiments.create({ controlVersion: control, canaryVersion: canary, traffic, salt }));
    });
  }

  /**
   * Ends the running experiment: PROMOTED makes the canary the only ACTIVE version (the previous
   * one READY, for retention to keep or retire); ABORTED returns it to READY. Null when none runs.
   */
  async end(outcome: ExperimentOutcome, reason: string): Promise<ExperimentEntity | null> {
    return this.db.transaction(async (tx) => {
      const versions = tx.getRepository(ModelVersionEntity);
      const experiments = tx.getRepository(ExperimentEntity);
      const running = await experiments.findOne({ where: { endedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
      if (!running) return null;
      const canary = running.canaryVersion;
      if (outcome === ExperimentOutcome.PROMOTED) {
        await versions.update({ status: ModelStatus.ACTIVE }, { status: ModelStatus.READY });
        await versions.update(canary, { status: ModelStatus.ACTIVE, activatedAt: new Date() });
      } else {
        await versions.update({ version: canary, status: ModelStatus.CANARY }, { status: ModelStatus.READY });
      }
      Object.assign(running, { endedAt: new Date(), outcome, endedReason: reason });
      return experiments.save(running);
    });
  }
}
