import { Injectable } from '@nestjs/common';
import { AnomalyRepository } from '@app/database';
import { historyLoss } from '@app/model';
import { UserFeedbackReader } from '../feedback/user-feedback.reader';
import { LiveModelService } from '../recommendations/live-model.service';
import { RecommendationSource } from '../recommendations/models/recommendations.model';
import { AnomalyHistogram } from './models/anomaly-histogram.model';
import { UserAnomaly } from './models/user-anomaly.model';

/** Fold-in scores kept per model version (about 100 bytes each): a user asked about again costs no decode. */
const CACHED_SCORES = 10_000;

interface ScoredHistory {
  /** The history the score is of: its newest time and length (what recording an interaction changes). */
  newest: number | null;
  items: number;
  score: number;
  percentile: number;
}

@Injectable()
export class AnomaliesService {
  private scored: { version: number; users: Map<string, ScoredHistory> } | null = null;

  constructor(
    private readonly live: LiveModelService,
    private readonly anomalies: AnomalyRepository,
    private readonly feedback: UserFeedbackReader,
  ) {}

  /** The score stored at training; for a user the model has not seen (or who did more since), scored now. */
  async forUser(userId: string): Promise<UserAnomaly | null> {
    const live = this.live.current();
    if (!live) return null;
    // the items the model would take as their input, as a fold-in reads them
    const history = await this.feedback.of(userId, live.input);
    const stored = await this.anomalies.find(live.version, userId);
    const current = stored && (!history.newest || !live.watermark || history.newest <= live.watermark);
    if (stored && current) return { ...stored, version: live.version, source: RecommendationSource.EMBEDDING };
    const known = [...history.input.keys()]
      .map((id) => live.itemIndex.get(id))
      .filter((i): i is number => i !== undefined);
    if (known.length === 0) return null;
    if (this.scored?.version !== live.version) this.scored = { version: live.version, users: new Map() };
    const { users } = this.scored;
    const newest = history.newest?.getTime() ?? null;
    let hit = users.get(userId);
    if (!hit || hit.newest !== newest || hit.items !== known.length) {
      // the decode runs on a scoring thread (and may be refused as OVERLOADED), never on this one
      const score = historyLoss(await live.scoring.reconstruct(known), known);
      hit = { newest, items: known.length, score, percentile: await this.anomalies.percentileOf(live.version, score) };
    }
    // least recently asked goes first
    users.delete(userId);
    users.set(userId, hit);
    if (users.size > CACHED_SCORES) users.delete(users.keys().next().value!);
    return {
      userId,
      score: hit.score,
      percentile: hit.percentile,
      version: live.version,
      source: RecommendationSource.FOLD_IN,
    };
  }

  async mostAnomalous(limit: number, minPercentile: number): Promise<UserAnomaly[]> {
    const live = this.live.current();
    if (!live) return [];
    const rows = await this.anomalies.mostAnomalous(live.version, limit, minPercentile);
    return rows.map((r) => ({ ...r, version: live.version, source: RecommendationSource.EMBEDDING }));
  }

  /** The live version's scores in bins of equal width; null without a model. */
  async histogram(bins: number): Promise<AnomalyHistogram | null> {
    const live = this.live.current();
    if (!live) return null;
    const h = await this.anomalies.histogram(live.version, bins);
    if (h.min === null || h.max === null) return { version: live.version, users: 0, bins: [] };
    const width = (h.max - h.min) / bins;
    const { min, max } = h;
    return {
      version: live.version,
      users: h.users,
      bins: h.counts.map((users, i) => ({
        from: min + i * width,
        to: i === bins - 1 ? max : min + (i + 1) * width,
        users,
      })),
    };
  }
}
