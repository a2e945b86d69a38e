import { TrainingConfig } from '@app/queue';
import { BadUserInputError } from '../errors/api-error';
import { TrainingConfigInput } from './dto/training-config.input';

const LOSSES = ['multinomial', 'logistic'] as const;
const ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'linear'] as const;

/** Rejects nonsense before anything is enqueued, naming the field. */
export function validateTrainingConfig(input: TrainingConfigInput = {}): TrainingConfig {
  const fail = (field: string, rule: string): never => {
    throw new BadUserInputError(`config.${field} ${rule}`, { field: `config.${field}` });
  };
  const int = (field: keyof TrainingConfigInput, min: number, max: number) => {
    const v = input[field] as number | undefined;
    if (v !== undefined && v !== null && (!Number.isInteger(v) || v < min || v > max)) fail(field, `must be an integer from ${min} to ${max}`);
  };
  const num = (field: keyof TrainingConfigInput, min: number, max: number, minExclusive = false) => {
    const v = input[field] as number | undefined;
    if (v !== undefined && v !== null && (!Number.isFinite(v) || v > max || v < min || (minExclusive && v === min))) {
      fail(field, `must be ${minExclusive ? 'above' : 'at least'} ${min} and at most ${max}`);
    }
  };
  int('epochs', 1, 1000);
  int('embeddingDim', 2, 2048);
  int('batchSize', 1, 100_000);
  int('patience', 0, 1000);
  int('seed', 0, 2 ** 31 - 1);
  num('dropout', 0, 0.95);
  num('learningRate', 0, 1, true);
  num('weightDecay', 0, 1);
  if (input.hidden && (input.hidden.length > 4 || input.hidden.some((w) => !Number.isInteger(w) || w < 2 || w > 4096))) {
    fail('hidden', 'must be at most 4 widths, each an integer from 2 to 4096');
  }
  if (input.loss != null && !(LOSSES as readonly string[]).includes(input.loss)) fail('loss', `must be one of ${LOSSES.join(', ')}`);
  if (input.activation != null && !(ACTIVATIONS as readonly string[]).includes(input.activation)) {
    fail('activation', `must be one of ${ACTIVATIONS.join(', ')}`);
  }
  if (input.tune) {
    const b = input.tune.budgetSeconds;
    if (!Number.isInteger(b) || b < 10 || b > 86_400) fail('tune.budgetSeconds', 'must be an integer from 10 to 86400');
  }
  // drop nulls: "not given" means the default
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined)) as TrainingConfig;
}
