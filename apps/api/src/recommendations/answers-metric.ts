import { Counter, register } from 'prom-client';
import { RecommendationSource } from './models/recommendations.model';

const ANSWERS_METRIC = 'recoder_recommendation_answers_total';
/** One counter per process, however many app instances it builds (the tests build several). */
const answers =
  (register.getSingleMetric(ANSWERS_METRIC) as Counter<'subject' | 'source' | 'preview'> | undefined) ??
  new Counter({
    name: ANSWERS_METRIC,
    help: 'Recommendation answers by subject (user, session, item), source and whether they were previews (preview="true": an operator looking, not shown to a user)',
    labelNames: ['subject', 'source', 'preview'],
  });

/** Counts one answer for /metrics. */
export function countAnswer(
  subject: 'user' | 'session' | 'item',
  source: RecommendationSource,
  preview: boolean,
): void {
  answers.inc({ subject, source, preview: String(preview) });
}
