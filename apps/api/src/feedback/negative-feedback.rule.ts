import { Injectable } from '@nestjs/common';
import type { HiddenItemsRule } from '../recommendations/hidden-items';
import type { FeedbackState } from './feedback-states.service';

/** Items a user gave a NEGATIVE event (no later POSITIVE one lifting it): never recommended to them. */
@Injectable()
export class NegativeFeedbackRule implements HiddenItemsRule {
  hiddenBy(state: FeedbackState): readonly string[] {
    return state.hidden;
  }
}
