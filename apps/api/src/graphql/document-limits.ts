import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { GraphQLError, ValidationRule } from 'graphql';
import { complexityLimit } from './complexity-limit';

/** Selections nest at most this deep (Mercurius' own check, introspection included). */
export const MAX_QUERY_DEPTH = 6;
/** Tokens graphql-js parses before it gives up: far above a real query, far below a flood. */
export const MAX_TOKENS = 5000;
/** Aliased fields per operation (fragments expanded; __typename free). */
export const MAX_ALIASES = 15;

/**
 * The document's own bounds, checked before anything runs. Each depends on the document alone,
 * never on variables, so Mercurius caches the verdict with the parsed query.
 */
export const documentValidationRules: ValidationRule[] = [
  complexityLimit(),
  maxAliasesRule({
    n: MAX_ALIASES,
    // report, not throw: a thrown error would escape graphql-js' validate as an internal error
    propagateOnRejection: false,
    onReject: [
      (context, error) =>
        context?.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          }),
        ),
    ],
  }),
];
