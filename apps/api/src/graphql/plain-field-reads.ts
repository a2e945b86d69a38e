import type { BuildSchemaOptions } from '@nestjs/graphql';
import { TypeMetadataStorage } from '@nestjs/graphql';
import { GraphQLSchema, isObjectType, isScalarType } from 'graphql';

/** What Nest's field metadata says of one @Field (TypeMetadataStorage's PropertyMetadata, the parts read here). */
interface FieldMetadata {
  name: string;
  schemaName: string;
  options: { defaultValue?: unknown };
  middleware?: unknown[];
}

/**
 * Nest's code-first schema gives every object field a resolver: it reads the class property, falls
 * back to the field's defaultValue and runs field middleware. graphql-jit calls a resolver per field
 * and value, but compiles a field without one to a plain property read: a recommendation answer
 * has 60 such fields. This drops the resolvers of the fields for which that read is all Nest's does.
 *
 * Which fields those are comes from what Nest publishes, never from the resolver functions:
 * - a field answered by a resolver class (a query, a mutation, an @ResolveField) is in the resolver
 *   map Nest hands to `transformResolvers`, and keeps its resolver;
 * - of the rest, a field whose @Field (TypeMetadataStorage) has middleware, a defaultValue or a
 *   property name other than its schema name keeps its resolver, as does one the metadata does not
 *   know (an interface's), and every field when the schema has global field middleware.
 * plain-field-reads.spec.ts checks each of these against the installed @nestjs/graphql.
 */
export class PlainFieldReads {
  /** "Type.field" of the fields resolver classes answer; null until Nest has handed over its resolvers. */
  private answered: Set<string> | null = null;

  constructor(private readonly buildSchemaOptions: BuildSchemaOptions = {}) {}

  /** For GqlModuleOptions.transformResolvers, which Nest calls before transformSchema. */
  readonly noteResolvers = <R>(resolvers: R): R => {
    const maps = (Array.isArray(resolvers) ? resolvers : [resolvers]) as Array<Record<string, unknown>>;
    this.answered = new Set(
      maps.flatMap((map) =>
        Object.entries(map)
          .filter(([, fields]) => typeof fields === 'object' && fields !== null && !isScalarType(fields))
          .flatMap(([type, fields]) => Object.keys(fields as object).map((field) => `${type}.${field}`)),
      ),
    );
    return resolvers;
  };

  /** For GqlModuleOptions.transformSchema. */
  readonly apply = (schema: GraphQLSchema): GraphQLSchema => {
    const answered = this.answered;
    if (!answered)
      throw new Error('PlainFieldReads: transformSchema ran before transformResolvers; set both (see api.module.ts)');
    if (this.buildSchemaOptions.fieldMiddleware?.length) return schema; // every field runs it
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || roots.includes(type)) continue;
      const metadata = fieldMetadataOf(type.name);
      for (const field of Object.values(type.getFields())) {
        if (answered.has(`${type.name}.${field.name}`)) continue;
        const property = metadata.get(field.name);
        if (property && isPlainRead(property)) field.resolve = undefined;
      }
    }
    return schema;
  };
}

/** Nest's resolver for this field reads root[schemaName] and nothing else: graphql's default resolver does the same. */
const isPlainRead = (field: FieldMetadata): boolean =>
  field.name === field.schemaName && field.options.defaultValue === undefined && !field.middleware?.length;

/**
 * The @Field metadata of an object type's fields by schema name: its class's, then its ancestor
 * classes' (the first one found is the one Nest builds the field from). Fields that come from a
 * GraphQL interface are not looked up, so they keep their resolvers.
 */
function fieldMetadataOf(typeName: string): Map<string, FieldMetadata> {
  const byName = new Map<string, FieldMetadata>();
  const add = (properties: FieldMetadata[] | undefined) =>
    properties?.forEach((p) => byName.has(p.schemaName) || byName.set(p.schemaName, p));
  const type = TypeMetadataStorage.getObjectTypesMetadata().find((t) => t.name === typeName);
  if (!type) return byName;
  for (
    let target: unknown = type.target;
    typeof target === 'function' && target !== Function.prototype;
    target = Object.getPrototypeOf(target)
  ) {
    add(TypeMetadataStorage.getObjectTypeMetadataByTarget(target as never)?.properties);
  }
  return byName;
}
