import { Injectable } from '@nestjs/common';
import { InteractionRepository } from '@app/database';
import { EventGroup, InputSettings, userFeedback, UserFeedback } from '@app/feedback';
import { FeedbackRulesService } from './feedback-rules.service';

/** A user's events read under the rules: what they put in, what they hide, under which rules. */
export interface ReadFeedback extends UserFeedback {
  rulesRevision: number;
}

/**
 * A user's history from Postgres, read as the rules say (libs/feedback's userFeedback, the same
 * reading a training's input gets). Requests that need the same user's history at once (a fold-in
 * and the negatives it hides) share one read.
 */
@Injectable()
export class UserFeedbackReader {
  private readonly reading = new Map<string, Promise<EventGroup[]>>();

  constructor(
    private readonly interactions: InteractionRepository,
    private readonly rules: FeedbackRulesService,
  ) {}

  /** Events aged as `settings` say, at `nowMs`; throws while Postgres is unreachable. */
  async of(userId: string, settings: InputSettings, nowMs = Date.now()): Promise<ReadFeedback> {
    const [groups, rules] = await Promise.all([this.groups(userId), this.rules.current()]);
    return { ...userFeedback(groups, rules, settings, nowMs), rulesRevision: rules.revision };
  }

  private groups(userId: string): Promise<EventGroup[]> {
    let read = this.reading.get(userId);
    if (!read) {
      read = this.interactions.eventGroupsOf(userId).finally(() => this.reading.delete(userId));
      this.reading.set(userId, read);
    }
    return read;
  }
}
