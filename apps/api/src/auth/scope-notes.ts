import { GraphQLSchema, isObjectType } from 'graphql';

/**
 * Ends the description of every field that declares a scope with "Scope: <scope>.", so the
 * committed schema and GraphiQL tell clients which key they need. Idempotent: Nest runs it for the
 * schema file and again for the served schema.
 */
export function withScopeNotes(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const scope = field.extensions?.scope;
      if (typeof scope !== 'string') continue;
      const note = `Scope: ${scope}.`;
      if (!field.description?.endsWith(note))
        field.description = field.description ? `${field.description} ${note}` : note;
    }
  }
  return schema;
}
