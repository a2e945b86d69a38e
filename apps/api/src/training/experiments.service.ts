import { Injectable } from '@nestjs/common';
import { ExperimentEntity, ExperimentRepository } from '@app/database';
import { ModelRegistryService, RegistryError } from '@app/registry';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { ExperimentArmRole, ExperimentModel, ExperimentStatus } from './models/experiment.model';

export const toExperiment = (e: ExperimentEntity): ExperimentModel => ({
  id: e.id,
  status: e.outcome === null ? ExperimentStatus.RUNNING : (e.outcome as unknown as ExperimentStatus),
  traffic: e.traffic,
  controlVersion: e.controlVersion,
  canaryVersion: e.canaryVersion,
  arms: [
    { role: ExperimentArmRole.CONTROL, version: e.controlVersion, traffic: 1 - e.traffic },
    { role: ExperimentArmRole.CANARY, version: e.canaryVersion, traffic: e.traffic },
  ],
  startedAt: e.startedAt,
  endedAt: e.endedAt,
  endedReason: e.endedReason,
});

/** Registry refusals as the client's errors: a version or experiment that is not there, or not in a state for it. */
export function registryCall<T>(call: () => Promise<T>): Promise<T> {
  return call().catch((err: unknown) => {
    if (err instanceof RegistryError)
      throw new ApiError(err.code === 'NOT_FOUND' ? ApiErrorCode.NotFound : ApiErrorCode.BadUserInput, err.message);
    throw err;
  });
}

/** Starting, reading and ending experiments (a CANARY version beside the ACTIVE one). */
@Injectable()
export class ExperimentsService {
  constructor(
    private readonly experiments: ExperimentRepository,
    private readonly registry: ModelRegistryService,
  ) {}

  async find(id?: number): Promise<ExperimentModel | null> {
    const found = id === undefined ? await this.experiments.running() : await this.experiments.find(id);
    return found && toExperiment(found);
  }

  async start(version: number, traffic: number): Promise<ExperimentModel> {
    return toExperiment(await registryCall(() => this.registry.startExperiment(version, traffic)));
  }

  async promote(): Promise<ExperimentModel> {
    return toExperiment(await registryCall(() => this.registry.promoteExperiment()));
  }

  async abort(): Promise<ExperimentModel> {
    return toExperiment(await registryCall(() => this.registry.abortExperiment()));
  }
}
