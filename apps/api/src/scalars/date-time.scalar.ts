import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { ApiErrorCode } from '../errors/api-error';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function parse(value: unknown): Date {
  const date = typeof value === 'string' && ISO_8601.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    // graphql-js keeps these extensions and prefixes the message with the variable path (input[3].occurredAt)
    throw new GraphQLError(
      `expected an ISO 8601 timestamp such as 2024-05-01T10:00:00Z, got ${JSON.stringify(value)}`,
      {
        extensions: { code: ApiErrorCode.BadUserInput },
      },
    );
  }
  return date;
}

/** ISO 8601 timestamps; malformed input fails with BAD_USER_INPUT and its path. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO 8601 timestamp, e.g. 2024-05-01T10:00:00Z',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parse,
  parseLiteral: (ast) => parse(ast.kind === Kind.STRING ? ast.value : undefined),
});
