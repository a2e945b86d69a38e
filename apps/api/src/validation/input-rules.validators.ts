import { ValidateBy, ValidationOptions } from 'class-validator';
import { keyNameProblem, keyScopesProblem } from '@app/api-keys';
import { attributesProblem, idProblem, occurredAtProblem, weightProblem } from '@app/ingest';
import { cursorProblem } from '../users/history-cursor';

/**
 * class-validator decorators over the shared input rules (libs/ingest/src/input-rules.ts), so
 * every argument and input class states its rules where it is declared, and the bulk import
 * (and `npm run keys`, for key names) applies the very same functions.
 */
function rule(
  name: string,
  problem: (value: unknown) => string | null,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value) => problem(value) === null,
        defaultMessage: (args) => problem(args?.value) ?? 'is invalid',
      },
    },
    options,
  );
}

/** A user, item, event or job id, or an interaction type: 1-256 characters, no control characters, well-formed Unicode. */
export const IsExternalId = (options?: ValidationOptions) => rule('isExternalId', idProblem, options);

/** Finite, 0 or 1e-6..1e6 in magnitude (a Postgres float4 keeps it). */
export const IsWeight = (options?: ValidationOptions) => rule('isWeight', weightProblem, options);

/** From 1970 to a day ahead of now. */
export const IsOccurredAt = (options?: ValidationOptions) =>
  rule(
    'isOccurredAt',
    (value) => (value instanceof Date ? occurredAtProblem(value.getTime()) : 'is not a valid time'),
    options,
  );

/** A JSON object of at most 16 KB and 5 levels, whose strings jsonb can hold. */
export const IsAttributes = (options?: ValidationOptions) => rule('isAttributes', attributesProblem, options);

/** A history cursor this API handed out. */
export const IsCursor = (options?: ValidationOptions) => rule('isCursor', cursorProblem, options);

/** An API key's name: 1-64 letters, digits, ".", "_" or "-". */
export const IsKeyName = (options?: ValidationOptions) => rule('isKeyName', keyNameProblem, options);

/** The scopes of a new API key: at least one. */
export const IsKeyScopes = (options?: ValidationOptions) => rule('isKeyScopes', keyScopesProblem, options);
