import {
  getNamedType,
  GraphQLField,
  GraphQLInputType,
  GraphQLNamedType,
  GraphQLObjectType,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { SCOPES, type ApiScope } from '@app/api-keys';

/**
 * Walks of the schema the running server answers with, so the security tests cover a field as
 * soon as it exists: its scope, a document calling it, valid and malformed variables for it.
 */

export type Root = 'Query' | 'Mutation';
export interface RootField {
  root: Root;
  field: GraphQLField<unknown, unknown>;
  /** What the field declares (undefined: nothing, which the schema test fails on). */
  scope: ApiScope | undefined;
}

export type Path = (string | number)[];

/** Every root field of the schema, and the scope it declares. */
export function rootFields(schema: GraphQLSchema): RootField[] {
  return (['Query', 'Mutation'] as const).flatMap((root) =>
    Object.values((schema.getType(root) as GraphQLObjectType).getFields()).map((field) => ({
      root,
      field,
      scope: scopeOf(field),
    })),
  );
}

/** Fields below the roots that run a resolver of their own (@ResolveField): plain property reads have none. */
export function resolvedFields(
  schema: GraphQLSchema,
): Array<{ type: string; field: GraphQLField<unknown, unknown>; scope: ApiScope | undefined }> {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  return Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__') && !roots.has(t))
    .flatMap((type) =>
      Object.values(type.getFields())
        .filter((f) => f.resolve)
        .map((field) => ({ type: type.name, field, scope: scopeOf(field) })),
    );
}

function scopeOf(field: GraphQLField<unknown, unknown>): ApiScope | undefined {
  const scope = field.extensions?.scope;
  return typeof scope === 'string' && (SCOPES as readonly string[]).includes(scope) ? (scope as ApiScope) : undefined;
}

/** `query Q($a: T!, ...) { field(a: $a, ...) { aScalar } }`: every argument as a variable. */
export function documentOf(
  { root, field }: Pick<RootField, 'root' | 'field'>,
  selection = selectionOf(getNamedType(field.type)),
): string {
  const vars = field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  return `${root === 'Mutation' ? 'mutation' : 'query'}${vars ? ` Q(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''} ${selection} }`;
}

/** Valid placeholder values of the required arguments (and the required fields inside them). */
export function requiredValues(field: GraphQLField<unknown, unknown>): Record<string, unknown> {
  return Object.fromEntries(field.args.filter((a) => isNonNullType(a.type)).map((a) => [a.name, validValue(a.type)]));
}

export function validValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return validValue(type.ofType);
  if (isListType(type)) return [validValue(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type))
        .map((f) => [f.name, validValue(f.type)]),
    );
  }
  const scalars: Record<string, unknown> = {
    Int: 1,
    Float: 1,
    Boolean: true,
    DateTime: '2024-01-01T00:00:00Z',
    JSONObject: {},
  };
  return isScalarType(type) ? (scalars[type.name] ?? 'x') : 'x';
}

/** String arguments and input fields that name something, held to the id rules as IDs are. */
const NAMING_STRINGS = new Set(['type', 'name', 'file']);

/**
 * Every place an id (or an interaction type, a key name, an export file) goes in a field's
 * variables: ID arguments, ID fields of input objects, ID lists (their first element), required or not.
 */
export function idPathsOf(field: GraphQLField<unknown, unknown>): Path[] {
  const walk = (type: GraphQLInputType, name: string, path: Path): Path[] => {
    if (isNonNullType(type)) return walk(type.ofType, name, path);
    if (isListType(type)) return walk(type.ofType, name, [...path, 0]);
    if (isInputObjectType(type))
      return Object.values(type.getFields()).flatMap((f) => walk(f.type, f.name, [...path, f.name]));
    return isScalarType(type) && (type.name === 'ID' || (type.name === 'String' && NAMING_STRINGS.has(name)))
      ? [path]
      : [];
  };
  return field.args.flatMap((a) => walk(a.type, a.name, [a.name]));
}

/** Valid required arguments, with `value` at `path` (input objects on the way get their required fields). */
export function valuesWith(field: GraphQLField<unknown, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const arg = field.args.find((a) => a.name === path[0])!;
  return { ...requiredValues(field), [arg.name]: build(arg.type, path.slice(1), value) };
}

function build(type: GraphQLInputType, rest: Path, value: unknown): unknown {
  if (isNonNullType(type)) return build(type.ofType, rest, value);
  if (rest.length === 0) return value;
  if (isListType(type)) return [build(type.ofType, rest.slice(1), value)];
  if (!isInputObjectType(type)) throw new Error(`no field ${String(rest[0])} in ${String(type)}`);
  const name = rest[0] as string;
  return { ...(validValue(type) as object), [name]: build(type.getFields()[name].type, rest.slice(1), value) };
}

export function selectionOf(type: GraphQLNamedType): string {
  if (!(type instanceof GraphQLObjectType)) return '';
  const scalar = Object.values(type.getFields()).find((f) => isScalarType(getNamedType(f.type)) && f.args.length === 0);
  return `{ ${scalar?.name ?? '__typename'} }`;
}
