import { ValidateBy, ValidationOptions } from 'class-validator';

/** An integer from min to max (each element, with `{ each: true }`); the message names the range. */
export function IsIntFrom(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  const message = `must be ${options?.each ? 'integers' : 'an integer'} from ${min} to ${max}`;
  return ValidateBy(
    {
      name: 'isIntFrom',
      validator: {
        validate: (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
        defaultMessage: () => message,
      },
    },
    options,
  );
}

/** A finite number from min (or, with `aboveMin`, above it) to max (or, with `belowMax`, below it). */
export function IsNumberFrom(min: number, max: number, { aboveMin = false, belowMax = false } = {}): PropertyDecorator {
  const message = `must be ${aboveMin ? 'above' : 'at least'} ${min} and ${belowMax ? 'below' : 'at most'} ${max}`;
  const fits = (v: unknown) =>
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (belowMax ? v < max : v <= max) &&
    (aboveMin ? v > min : v >= min);
  return ValidateBy({ name: 'isNumberFrom', validator: { validate: fits, defaultMessage: () => message } });
}
