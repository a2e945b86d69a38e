import { idProblem, MAX_WEIGHT, weightProblem } from '@app/ingest/input-rules';
import { FEEDBACK_ROLES, FeedbackRole, FeedbackTypeRule, ValueCondition } from './roles';

/** Conditions one type may have: a few ranges of its value (ratings: two). */
export const MAX_CONDITIONS = 8;
/** Types one file may declare. */
export const MAX_FILE_TYPES = 1000;

/**
 * What is wrong with a rule, as `field: reason`, or null: the GraphQL mutation and the config file
 * both check rules with this, so neither can store one the other would refuse.
 */
export function ruleProblem(rule: FeedbackTypeRule): string | null {
  const type = idProblem(rule.type);
  if (type) return `type: ${type}`;
  if (!FEEDBACK_ROLES.includes(rule.role)) return `role: must be one of ${FEEDBACK_ROLES.join(', ')}`;
  if (typeof rule.weight !== 'number' || !Number.isFinite(rule.weight) || rule.weight <= 0 || rule.weight > MAX_WEIGHT)
    return `weight: must be above 0 and at most ${MAX_WEIGHT}`;
  const conditions: readonly ValueCondition[] = rule.conditions;
  if (!Array.isArray(rule.conditions)) return 'conditions: must be a list';
  if (conditions.length > MAX_CONDITIONS) return `conditions: must hold at most ${MAX_CONDITIONS}`;
  for (let k = 0; k < conditions.length; k++) {
    const problem = conditionProblem(conditions[k]);
    if (problem) return `conditions[${k}].${problem}`;
  }
  return null;
}

function conditionProblem(c: ValueCondition): string | null {
  if (!FEEDBACK_ROLES.includes(c.role)) return `role: must be one of ${FEEDBACK_ROLES.join(', ')}`;
  if (c.min === null && c.max === null) return 'min: give min, max or both';
  for (const bound of ['min', 'max'] as const) {
    const problem = c[bound] === null ? null : weightProblem(c[bound]);
    if (problem) return `${bound}: ${problem}`;
  }
  if (c.min !== null && c.max !== null && c.min > c.max) return 'max: must not be below min';
  return null;
}

/** Thrown for a config file that cannot be used; the message names the file's problem. */
export class FeedbackFileError extends Error {}

/**
 * The rules of a config file's JSON text: `{"types": [{"type": "rating", "role": "IGNORED",
 * "weight": 1, "conditions": [{"role": "POSITIVE", "min": 4}, {"role": "NEGATIVE", "max": 2}]}]}`;
 * `weight` (1) and `conditions` (none) may be left out. Throws FeedbackFileError naming the problem.
 */
export function parseRulesFile(text: string): FeedbackTypeRule[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FeedbackFileError(`not JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed) || !Array.isArray(parsed.types))
    throw new FeedbackFileError('must be an object with a "types" list');
  unknownKeys(parsed, ['types'], '');
  if (parsed.types.length > MAX_FILE_TYPES) throw new FeedbackFileError(`types: at most ${MAX_FILE_TYPES}`);
  const seen = new Set<string>();
  return parsed.types.map((raw: unknown, k) => {
    const at = `types[${k}]`;
    if (!isObject(raw)) throw new FeedbackFileError(`${at}: must be an object`);
    unknownKeys(raw, ['type', 'role', 'weight', 'conditions'], at);
    const conditions = raw.conditions ?? [];
    if (!Array.isArray(conditions)) throw new FeedbackFileError(`${at}.conditions: must be a list`);
    const rule: FeedbackTypeRule = {
      type: raw.type as string,
      role: raw.role as FeedbackRole,
      weight: (raw.weight ?? 1) as number,
      conditions: conditions.map((c: unknown, j) => {
        if (!isObject(c)) throw new FeedbackFileError(`${at}.conditions[${j}]: must be an object`);
        unknownKeys(c, ['role', 'min', 'max'], `${at}.conditions[${j}]`);
        return {
          role: c.role as FeedbackRole,
          min: (c.min ?? null) as number | null,
          max: (c.max ?? null) as number | null,
        };
      }),
    };
    const problem = ruleProblem(rule);
    if (problem) throw new FeedbackFileError(`${at}.${problem}`);
    if (seen.has(rule.type)) throw new FeedbackFileError(`${at}.type: "${rule.type}" is declared twice`);
    seen.add(rule.type);
    return rule;
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// a misspelt key ("weigth") would otherwise be a default silently taken
function unknownKeys(o: Record<string, unknown>, allowed: string[], at: string): void {
  const extra = Object.keys(o).find((key) => !allowed.includes(key));
  if (extra) throw new FeedbackFileError(`${at ? `${at}.` : ''}${extra}: unknown key (allowed: ${allowed.join(', ')})`);
}

/** Whether two rules say the same. */
export function sameRule(a: FeedbackTypeRule, b: FeedbackTypeRule): boolean {
  return (
    a.type === b.type &&
    a.role === b.role &&
    a.weight === b.weight &&
    a.conditions.length === b.conditions.length &&
    a.conditions.every((c, k) => {
      const d = b.conditions[k];
      return c.role === d.role && c.min === d.min && c.max === d.max;
    })
  );
}
