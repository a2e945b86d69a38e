import { Injectable, Logger } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { OnlineMetricsRepository } from '@app/database';
import { attributedVersion, FeedbackRole, NO_MODEL_VERSION } from '@app/feedback';
import { FeedbackRulesService } from '../feedback/feedback-rules.service';
import { ImpressionBuffer } from '../feedback/impression-buffer';
import { OnlineMetricsBuffer } from '../feedback/online-metrics-buffer';
import { RecommendationIds } from '../feedback/recommendation-ids';
import { LiveModelService } from '../recommendations/live-model.service';
import { InteractionInput } from './dto/interaction.input';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Online metrics of recorded events: a POSITIVE event is attributed to the answer its
 * recommendationId names (when that answer was for its user and held its item), or, with no id,
 * to the version now answering its user when they were shown the item within
 * ATTRIBUTION_WINDOW_MINUTES before it; an IMPRESSION event counts as shown by its answer's version
 * (or the user's). Lives beside ingest, not in feedback/: it asks the live model for a user's arm.
 */
@Injectable()
export class OnlineAttribution {
  private readonly logger = new Logger(OnlineAttribution.name);

  constructor(
    private readonly rules: FeedbackRulesService,
    private readonly ids: RecommendationIds,
    private readonly impressions: ImpressionBuffer,
    private readonly shown: OnlineMetricsRepository,
    private readonly live: LiveModelService,
    private readonly metrics: OnlineMetricsBuffer,
    private readonly env: EnvVars,
  ) {}

  /** Counts a stored batch (its ids already checked); a failure is logged, never the batch's: it is stored. */
  async count(input: readonly InteractionInput[]): Promise<void> {
    await this.countEvents(input).catch((err: Error) =>
      this.logger.warn(`online metrics of ${input.length} events not counted: ${err.message}`),
    );
  }

  /** Events without a POSITIVE or IMPRESSION role are not counted. */
  private async countEvents(input: readonly InteractionInput[]): Promise<void> {
    const rules = await this.rules.current();
    const now = new Date();
    const byWindow: { event: InteractionInput; at: Date }[] = [];
    for (const event of input) {
      const role = rules.roleOf(event.type, event.weight);
      if (role !== FeedbackRole.POSITIVE && role !== FeedbackRole.IMPRESSION) continue;
      const at = event.occurredAt ?? now;
      const claims = event.recommendationId ? await this.ids.verify(event.recommendationId) : null;
      if (role === FeedbackRole.IMPRESSION) {
        const version = claims ? (claims.modelVersion ?? NO_MODEL_VERSION) : this.versionOf(event.userId);
        this.metrics.impressions(version, event.userId, 1, at);
      } else if (claims) {
        const version = attributedVersion(claims, event.userId, event.itemId);
        if (version !== null) this.metrics.attributed(version, event.userId, event.type, at);
      } else byWindow.push({ event, at });
    }
    await this.attributeByWindow(byWindow);
  }

  /** Events with no id: attributed when an impression of their item to their user came within the window before. */
  private async attributeByWindow(events: { event: InteractionInput; at: Date }[]): Promise<void> {
    if (events.length === 0) return;
    const windowMs = this.env.ATTRIBUTION_WINDOW_MINUTES * MINUTE_MS;
    // no impression is kept past its retention: an older event (a history being loaded) is not looked up
    const kept = Date.now() - this.env.IMPRESSIONS_RETENTION_DAYS * DAY_MS;
    events = events.filter(({ at }) => at.getTime() > kept);
    if (events.length === 0) return;
    // impressions not yet written are in this process's buffer
    const held = events.map(({ event, at }) =>
      this.impressions.holdsShow(event.userId, event.itemId, new Date(at.getTime() - windowMs), at),
    );
    const stored = await this.shown.shownWithin(
      events.map(({ event, at }) => ({ userId: event.userId, itemId: event.itemId, at })),
      windowMs,
    );
    events.forEach(({ event, at }, i) => {
      if (held[i] || stored[i]) this.metrics.attributed(this.versionOf(event.userId), event.userId, event.type, at);
    });
  }

  /** The version answering the user now (their experiment arm, else the active one). */
  private versionOf(userId: string): number {
    return this.live.forUser(userId)?.version ?? NO_MODEL_VERSION;
  }
}
