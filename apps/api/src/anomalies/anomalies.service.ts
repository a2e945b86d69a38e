import { Injectable } from '@nestjs/common';
import { AnomalyRepository, InteractionRepository } from '@app/database';
import { reconstructionLoss, rowsFromItemLists } from '@app/model';
import { LiveModelService } from '../recommendations/live-model.service';
import { RecommendationSource } from '../recommendations/models/recommendations.model';
import { UserAnomaly } from './models/user-anomaly.model';

@Injectable()
export class AnomaliesService {
  constructor(
    private readonly live: LiveModelService,
    private readonly anomalies: AnomalyRepository,
    private readonly interactions: InteractionRepository,
  ) {}

  /** The score stored at training; for a user the model has not seen (or who did more since), scored now. */
  async forUser(userId: string): Promise<UserAnomaly | null> {
    const live = this.live.current();
    if (!live) return null;
    const history = await this.interactions.seenItemsOf(userId);
    const stored = await this.anomalies.find(live.version, userId);
    const current = stored && (!history.newest || !live.watermark || history.newest <= live.watermark);
    if (stored && current) return { ...stored, version: live.version, source: RecommendationSource.EMBEDDING };
    const known = history.items.map((id) => live.itemIndex.get(id)).filter((i): i is number => i !== undefined);
    if (known.length === 0) return null;
    const [score] = reconstructionLoss(live.model, rowsFromItemLists(live.itemIds.length, [known]));
    const percentile = await this.anomalies.percentileOf(live.version, score);
    return { userId, score, percentile, version: live.version, source: RecommendationSource.FOLD_IN };
  }

  async mostAnomalous(limit: number, minPercentile: number): Promise<UserAnomaly[]> {
    const live = this.live.current();
    if (!live) return [];
    const rows = await this.anomalies.mostAnomalous(live.version, limit, minPercentile);
    return rows.map((r) => ({ ...r, version: live.version, source: RecommendationSource.EMBEDDING }));
  }
}
