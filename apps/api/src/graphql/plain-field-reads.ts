import { GraphQLSchema, isObjectType } from 'graphql';

/**
 * Nest's code-first schema gives every object field a resolver that only reads the property
 * (`rootFieldResolver`). graphql-jit calls a resolver per field and value, but compiles a field
 * without one to a plain property read: a recommendation answer has 60 such fields. Their
 * resolvers are dropped here; fields with middleware or @ResolveField keep theirs. (No object field
 * declares a defaultValue, the one other thing that resolver does.)
 */
export function withPlainFieldReads(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].includes(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.resolve?.name === 'rootFieldResolver') field.resolve = undefined;
    }
  }
  return schema;
}
