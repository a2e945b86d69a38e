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

export type Root = 'Query' | 'Mutation';
export interface RootField {
  root: Root;
  field: GraphQLField<unknown, unknown>;
  /** What the field declares (undefined: nothing, which the schema test fails on). */
  scope: ApiScope | undefined;
}

/** Every root field of the schema the running server answers with, and the scope it declares. */
export function rootFields(schema: GraphQLSchema): RootField[] {
  return (['Query', 'Mutation'] as const).flatMap((root) =>
    Object.values((schema.getType(root) as GraphQLObjectType).getFields()).map((field) => ({ root, field, scope: scopeOf(field) })),
  );
}

/** Fields below the roots that run a resolver of their own (@ResolveField): plain property reads have none. */
export function resolvedFields(schema: GraphQLSchema): Array<{ type: string; field: GraphQLField<unknown, unknown>; scope: ApiScope | undefined }> {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  return Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__') && !roots.has(t))
    .flatMap((type) => Object.values(type.getFields()).filter((f) => f.resolve).map((field) => ({ type: type.name, field, scope: scopeOf(field) })));
}

function scopeOf(field: GraphQLField<unknown, unknown>): ApiScope | undefined {
  const scope = field.extensions?.scope;
  return typeof scope === 'string' && (SCOPES as readonly string[]).includes(scope) ? (scope as ApiScope) : undefined;
}

/** A document calling the field with placeholder values of its required arguments' types. */
export function operationOf({ root, field }: Pick<RootField, 'root' | 'field'>): string {
  return `${root === 'Mutation' ? 'mutation' : 'query'} { ${field.name}${argsOf(field)} ${selectionOf(getNamedType(field.type))} }`;
}

function argsOf(field: GraphQLField<unknown, unknown>): string {
  const required = field.args.filter((a) => isNonNullType(a.type));
  return required.length ? `(${required.map((a) => `${a.name}: ${placeholder(a.type)}`).join(', ')})` : '';
}

function placeholder(type: GraphQLInputType): string {
  if (isNonNullType(type)) return placeholder(type.ofType);
  if (isListType(type)) return `[${placeholder(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type));
    return `{ ${fields.map((f) => `${f.name}: ${placeholder(f.type)}`).join(', ')} }`;
  }
  if (isScalarType(type)) return ({ Int: '1', Float: '1', Boolean: 'true' } as Record<string, string>)[type.name] ?? '"x"';
  return '"x"';
}

function selectionOf(type: GraphQLNamedType): string {
  if (!(type instanceof GraphQLObjectType)) return '';
  const scalar = Object.values(type.getFields()).find((f) => isScalarType(getNamedType(f.type)) && f.args.length === 0);
  return `{ ${scalar?.name ?? '__typename'} }`;
}
