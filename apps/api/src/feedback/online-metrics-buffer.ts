import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { Counter, register } from 'prom-client';
import { EnvVars } from '@app/config';
import { OnlineCount, OnlineMetricsRepository } from '@app/database';
import { hourOf, Measure, metricUnit } from '@app/feedback';
import { RollupBuffer } from './rollup-buffer';

/** While Postgres is unreachable, at most this many counters are held; newer ones are dropped (and logged). */
const HELD_COUNTERS = 200_000;

/** One counter per process, however many app instances it builds (the tests build several). */
function counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
  return (register.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames });
}
const answersTotal = counter(
  'recoder_online_answers_total',
  'Answers given to users (previews not counted), by model version',
  ['version'],
);
const impressionsTotal = counter(
  'recoder_online_impressions_total',
  'Impressions reported, by the model version of their answer',
  ['version'],
);
const attributedTotal = counter(
  'recoder_online_attributed_events_total',
  'POSITIVE events attributed to an answer (its recommendationId, or an impression within ATTRIBUTION_WINDOW_MINUTES), by model version and event type',
  ['version', 'type'],
);

/**
 * Online metrics counted in memory (no write per answer) and added to the online_metrics roll-up
 * every ONLINE_METRICS_FLUSH_MS and at a clean stop. A failed write keeps its counts for the next.
 */
@Injectable()
export class OnlineMetricsBuffer implements BeforeApplicationShutdown {
  private readonly logger = new Logger(OnlineMetricsBuffer.name);
  private readonly counts: RollupBuffer<OnlineCount>;

  constructor(repository: OnlineMetricsRepository, env: EnvVars) {
    this.counts = new RollupBuffer<OnlineCount>({
      names: { rows: 'online metric counters', dropped: 'online metric counts' },
      merge: (into, from) => void (into.count += from.count),
      write: (rows) => repository.add(rows),
      flushMs: env.ONLINE_METRICS_FLUSH_MS,
      maxRows: HELD_COUNTERS,
      logger: this.logger,
    });
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.counts.stop();
  }

  /** An answer a user was given (`unitKey`: their id, or the answer's for an anonymous one). */
  answer(version: number, unitKey: string, at = new Date()): void {
    answersTotal.inc({ version: String(version) });
    this.add(version, at, metricUnit(unitKey), Measure.answers, 1);
  }

  impressions(version: number, unitKey: string, count: number, at = new Date()): void {
    if (count <= 0) return;
    impressionsTotal.inc({ version: String(version) }, count);
    this.add(version, at, metricUnit(unitKey), Measure.impressions, count);
  }

  /** A POSITIVE event of `type` by `userId` attributed to `version`. */
  attributed(version: number, userId: string, type: string, at: Date): void {
    attributedTotal.inc({ version: String(version), type });
    this.add(version, at, metricUnit(userId), Measure.positive(type), 1);
  }

  /** Counters held, not yet written. */
  get held(): number {
    return this.counts.held;
  }

  /** Writes what is held; one write at a time (a call during one waits for it, then writes what came since). */
  flush(): Promise<void> {
    return this.counts.flush();
  }

  private add(version: number, at: Date, unit: number, measure: string, count: number): void {
    const hour = hourOf(at);
    const key = `${version}\u0000${hour.getTime()}\u0000${unit}\u0000${measure}`;
    this.counts.add(key, { version, hour, unit, measure, count }, count);
  }
}
