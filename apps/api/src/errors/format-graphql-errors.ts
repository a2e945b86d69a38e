import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import { defaultErrorFormatter, type MercuriusOptions } from 'mercurius';
import { ApiErrorCode } from './api-error';

type Formatter = NonNullable<MercuriusOptions['errorFormatter']>;

/**
 * Mercurius leaves request-level errors (syntax, validation, variable coercion) without a code;
 * give them the codes clients know from Apollo, so every error carries `extensions.code`.
 */
export const formatGraphqlErrors: Formatter = (execution, context) => {
  const formatted = defaultErrorFormatter(execution as ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>, context);
  const response = formatted.response as { errors?: GraphQLFormattedError[] };
  response.errors = response.errors?.map((error) => (error.extensions?.code ? error : withCode(error)));
  return formatted;
};

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

