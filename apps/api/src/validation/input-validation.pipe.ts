import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { BadUserInputError } from '../errors/api-error';

/**
 * The one validation of client input: every @ArgsType / @InputType class with class-validator
 * rules is checked before its resolver runs, and the first problem fails the request as
 * BAD_USER_INPUT naming its path (`input[3].userId`), with `index` and `field` for a batch.
 * Classes without rules (a @Parent object, the context) pass untouched.
 */
@Injectable()
export class InputValidationPipe implements PipeTransform {
  transform(value: unknown, { metatype }: ArgumentMetadata): unknown {
    if (!metatype || !hasRules(metatype) || value === null || typeof value !== 'object') return value;
    const instance = plainToInstance(metatype, value) as object;
    // stop at a property's first failed rule: one clear reason, and no work on a value already refused
    const errors = validateSync(instance, { stopAtFirstError: true, forbidUnknownValues: false });
    if (errors.length) throw toBadUserInput(errors[0]);
    return instance;
  }
}

const withRules = new WeakMap<object, boolean>();

function hasRules(metatype: abstract new (...args: never[]) => unknown): boolean {
  let known = withRules.get(metatype);
  if (known === undefined) {
    known = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false).length > 0;
    withRules.set(metatype, known);
  }
  return known;
}

/** The deepest failed rule of the first error, as `path: reason` with the batch index and the field. */
export function toBadUserInput(error: ValidationError): BadUserInputError {
  let path = error.property;
  let index: number | undefined;
  let node = error;
  while (!node.constraints && node.children?.length) {
    node = node.children[0];
    const isIndex = /^\d+$/.test(node.property);
    if (isIndex && index === undefined) index = Number(node.property);
    path += isIndex ? `[${node.property}]` : `.${node.property}`;
  }
  const reason = Object.values(node.constraints ?? {})[0] ?? 'is invalid';
  const field = /^\d+$/.test(node.property)
    ? path
        .replace(/\[\d+\]$/, '')
        .split('.')
        .pop()!
    : node.property;
  return new BadUserInputError(`${path}: ${reason}`, index === undefined ? { field } : { index, field });
}
