import { Injectable } from '@nestjs/common';
import { stillExposed } from '@app/feedback';
import type { HiddenItemsRule } from '../recommendations/hidden-items';
import { FeedbackState, FeedbackStates } from './feedback-states.service';

/**
 * Items shown to the user EXPOSURE_MAX_SHOWS times with no POSITIVE event from them since: hidden
 * until EXPOSURE_COOLDOWN_DAYS after the last show (libs/feedback exposedItems). Off with 0.
 */
@Injectable()
export class ExposureRule implements HiddenItemsRule {
  constructor(private readonly states: FeedbackStates) {}

  hiddenBy(state: FeedbackState, now: Date): readonly string[] {
    if (this.states.policy.maxShows === 0 || state.exposed.length === 0) return [];
    return stillExposed(state.exposed, now.getTime());
  }
}
