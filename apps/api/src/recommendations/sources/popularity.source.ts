import { Injectable } from '@nestjs/common';
import { RecommendationSource } from '../models/recommendations.model';
import { Ask, Source, SourceAnswer } from './source';

/**
 * The most interacted-with items (the last training's or recount's counts), the subject's own
 * items left out: the answer without a model, and for a user or items the model cannot place.
 * Always answers, so it comes last.
 */
@Injectable()
export class PopularitySource implements Source {
  async answer({ subject, candidates, limit }: Ask): Promise<SourceAnswer> {
    return { items: candidates.popular(limit, await subject.excludedIds()), source: RecommendationSource.POPULARITY };
  }
}
