import { DocumentNode, getOperationAST, OperationTypeNode } from 'graphql';
import type { preExecutionHookHandler } from 'mercurius';

/**
 * Mercurius compiles a query with graphql-jit once it has run this many times: the compiled
 * form skips most of graphql-js's per-field work (recommendations: 1.6x the requests/s here).
 */
export const COMPILE_AFTER_RUNS = 1;

/**
 * Mutations stay on graphql-js: graphql-jit does not apply input-field defaults to variables
 * (InteractionInput.type and .weight are then "not provided"; graphql-jit issue 142). Handing
 * Mercurius the document back as "modified" is its documented way to run a request uncompiled.
 */
export const mutationsUncompiled: preExecutionHookHandler = (_schema, document: DocumentNode) =>
  // a document of several operations (no single one) stays uncompiled too: safe either way
  getOperationAST(document)?.operation === OperationTypeNode.QUERY ? undefined : { document };
