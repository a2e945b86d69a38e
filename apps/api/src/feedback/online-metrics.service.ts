import { Injectable } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { OnlineMetricsRepository } from '@app/database';
import { armCtr, ctrDifference, Measure, METRIC_UNITS, positiveType } from '@app/feedback';
import { BadUserInputError } from '../errors/api-error';
import { ExperimentArmRole, ExperimentModel } from '../training/models/experiment.model';
import { OnlineMetricsBucket } from './dto/online-metrics.args';
import {
  ExperimentArmOnlineModel,
  ExperimentOnlineModel,
  OnlineBucketModel,
  OnlineCountsModel,
  OnlineMetricsModel,
} from './models/online-metrics.model';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_RANGE_MS = 7 * DAY_MS;
/** The most buckets one query returns: a month of hours, a year of days. */
const MAX_BUCKETS = { [OnlineMetricsBucket.HOUR]: 31 * 24, [OnlineMetricsBucket.DAY]: 366 };

/** Measures summed over a bucket or range, before the rates. */
type Tally = Map<string, number>;

/** Online metrics read from the roll-up: a version's buckets, and an experiment's arms compared. */
@Injectable()
export class OnlineMetricsService {
  private readonly conversionTypes: ReadonlySet<string> | null;

  constructor(
    private readonly repository: OnlineMetricsRepository,
    env: EnvVars,
  ) {
    const types = env.ONLINE_CONVERSION_TYPES.split(',').filter(Boolean);
    this.conversionTypes = types.length ? new Set(types) : null;
  }

  async forVersion(
    version: number,
    from: Date | null | undefined,
    to: Date | null | undefined,
    bucket: OnlineMetricsBucket,
  ): Promise<OnlineMetricsModel> {
    const size = bucket === OnlineMetricsBucket.HOUR ? HOUR_MS : DAY_MS;
    const end = new Date(Math.ceil((to ?? new Date()).getTime() / size) * size);
    const start = new Date(Math.floor((from ?? new Date(end.getTime() - DEFAULT_RANGE_MS)).getTime() / size) * size);
    if (start >= end) throw new BadUserInputError('from must be before to', { field: 'from' });
    if ((end.getTime() - start.getTime()) / size > MAX_BUCKETS[bucket])
      throw new BadUserInputError(
        `at most ${MAX_BUCKETS[bucket]} ${bucket === OnlineMetricsBucket.HOUR ? 'hours' : 'days'} a query: narrow from and to, or ask for DAY buckets`,
        { field: 'from' },
      );
    const rows = await this.repository.byBucket(
      version,
      start,
      end,
      bucket === OnlineMetricsBucket.HOUR ? 'hour' : 'day',
    );
    const byBucket = new Map<number, Tally>();
    const total: Tally = new Map();
    for (const row of rows) {
      const key = row.bucket.getTime();
      const tally = byBucket.get(key) ?? new Map<string, number>();
      byBucket.set(key, tally);
      tally.set(row.measure, (tally.get(row.measure) ?? 0) + row.count);
      total.set(row.measure, (total.get(row.measure) ?? 0) + row.count);
    }
    const buckets: OnlineBucketModel[] = [...byBucket]
      .sort(([a], [b]) => a - b)
      .map(([key, tally]) => ({ start: new Date(key), ...this.counts(tally) }));
    return { version, from: start, to: end, buckets, total: this.counts(total) };
  }

  /** Each arm's counts over the experiment, and the 95% interval of the canary's CTR minus the control's. */
  async forExperiment(experiment: ExperimentModel): Promise<ExperimentOnlineModel> {
    const from = experiment.startedAt;
    const to = experiment.endedAt ?? new Date(Date.now() + HOUR_MS);
    const arms = await Promise.all(
      [
        { role: ExperimentArmRole.CONTROL, version: experiment.controlVersion },
        { role: ExperimentArmRole.CANARY, version: experiment.canaryVersion },
      ].map(async ({ role, version }) => {
        // hours of the experiment: the hour it started in holds counts from before it too
        const rows = await this.repository.byUnit(
          version,
          new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS),
          to,
        );
        const total: Tally = new Map();
        const units = Array.from({ length: METRIC_UNITS }, () => ({ shown: 0, clicks: 0 }));
        for (const row of rows) {
          total.set(row.measure, (total.get(row.measure) ?? 0) + row.count);
          if (row.measure === Measure.impressions) units[row.unit].shown += row.count;
          else if (positiveType(row.measure) !== null) units[row.unit].clicks += row.count;
        }
        const ctr = armCtr(units.filter((u) => u.shown > 0));
        return { role, version, counts: this.counts(total), ctr };
      }),
    );
    const [control, canary] = arms;
    const difference =
      Number.isFinite(control.ctr.se) && Number.isFinite(canary.ctr.se) ? ctrDifference(canary.ctr, control.ctr) : null;
    return {
      arms: arms.map(({ role, version, counts, ctr }): ExperimentArmOnlineModel => ({
        role,
        version,
        ...counts,
        ctrStandardError: Number.isFinite(ctr.se) ? ctr.se : null,
      })),
      ctrDifference: difference,
    };
  }

  private counts(tally: Tally): OnlineCountsModel {
    const answers = tally.get(Measure.answers) ?? 0;
    const impressions = tally.get(Measure.impressions) ?? 0;
    const positivesByType = [...tally]
      .map(([measure, count]) => ({ type: positiveType(measure), count }))
      .filter((p): p is { type: string; count: number } => p.type !== null)
      .sort((a, b) => (a.type < b.type ? -1 : 1));
    const positives = positivesByType.reduce((a, p) => a + p.count, 0);
    const conversions = this.conversionTypes
      ? positivesByType.filter((p) => this.conversionTypes!.has(p.type)).reduce((a, p) => a + p.count, 0)
      : positives;
    return {
      answers,
      impressions,
      positives,
      positivesByType,
      conversions,
      ctr: impressions > 0 ? positives / impressions : null,
      conversionRate: answers > 0 ? conversions / answers : null,
    };
  }
}
