import type { GraphQLFormattedError } from 'graphql';
import { defaultErrorFormatter, type MercuriusOptions } from 'mercurius';
import { ApiErrorCode } from './api-error';

type Formatter = NonNullable<MercuriusOptions['errorFormatter']>;

/**
 * Mercurius leaves request-level errors (syntax, validation, variable coercion) without a code;
 * give them the codes clients know from Apollo, so every error carries `extensions.code`.
 */
export const formatGraphqlErrors: Formatter = (execution, context) => {
  if (execution.errors?.some(isBodyTooLarge)) return PAYLOAD_TOO_LARGE;
  const formatted = defaultErrorFormatter(execution, context);
  const response = formatted.response as { errors?: GraphQLFormattedError[] };
  response.errors = response.errors?.map((error) => (error.extensions?.code ? error : withCode(error)));
  return formatted;
};

/** Fastify refused the body (GRAPHQL_BODY_LIMIT) before GraphQL saw it: 413, still in GraphQL's shape. */
const PAYLOAD_TOO_LARGE = {
  statusCode: 413,
  response: {
    data: null,
    errors: [
      { message: 'Request body is too large (GRAPHQL_BODY_LIMIT)', extensions: { code: ApiErrorCode.PayloadTooLarge } },
    ],
  },
};

const isBodyTooLarge = (error: { originalError?: unknown }) =>
  (error.originalError as { code?: string } | undefined)?.code === 'FST_ERR_CTP_BODY_TOO_LARGE';

function withCode(error: GraphQLFormattedError): GraphQLFormattedError {
  // an error with a path came from executing a field: nothing the client sent, so internal
  const code = error.path ? ApiErrorCode.Internal : requestErrorCode(error.message);
  return { ...error, extensions: { ...error.extensions, code } };
}

function requestErrorCode(message: string): string {
  if (message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  // "Variable "$input" got invalid value ..." : the request's values, not its shape
  if (message.startsWith('Variable "$')) return ApiErrorCode.BadUserInput;
  return 'GRAPHQL_VALIDATION_FAILED';
}
