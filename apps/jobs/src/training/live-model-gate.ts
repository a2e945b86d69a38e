import { Injectable, Logger } from '@nestjs/common';
import { GateComparison, ModelVersionRepository } from '@app/database';
import { deserializeModel, HeldOutRows, LoadedModel, reindexHeldOut } from '@app/model';
import { modelScorer, rankingFigures } from './held-out-metrics';

/**
 * Scores the live model on a candidate's held-out users, so the quality gate compares two figures
 * measured on the same users rather than the candidate's with whatever the live version once stored.
 */
@Injectable()
export class LiveModelGate {
  private readonly logger = new Logger(LiveModelGate.name);

  constructor(private readonly versions: ModelVersionRepository) {}

  /**
   * `gate` is in the candidate's item index (`itemIds`). Null when there is no live model or its
   * weights cannot be read: the registry then compares the stored figures, as it did before.
   */
  async compare(
    gate: HeldOutRows,
    itemIds: readonly string[],
    candidateNdcg100: number,
  ): Promise<GateComparison | null> {
    const active = await this.versions.findActive();
    if (!active) return null;
    const live = await this.load(active.version);
    if (!live) return null;
    try {
      // the live model may not know items that appeared since: see reindexHeldOut
      const { ndcg100 } = rankingFigures(modelScorer(live.model), reindexHeldOut(gate, itemIds, live.itemIds));
      return { liveVersion: active.version, liveNdcg100: ndcg100, candidateNdcg100, users: gate.input.rows };
    } finally {
      live.model.dispose();
    }
  }

  private async load(version: number): Promise<LoadedModel | null> {
    try {
      const blob = await this.versions.weights(version);
      if (blob) return deserializeModel(blob);
      this.logger.warn(`live v${version} has no stored weights: the gate compares its stored metrics`);
    } catch (err) {
      this.logger.warn(
        `live v${version}'s weights could not be read (${(err as Error).message}): the gate compares its stored metrics`,
      );
    }
    return null;
  }
}
