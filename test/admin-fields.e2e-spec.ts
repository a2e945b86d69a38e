import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModulesContainer } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { GraphQLField, GraphQLObjectType, GraphQLSchema, isNonNullType, isListType, GraphQLInputType, isInputObjectType, isScalarType, isEnumType, GraphQLNamedType, getNamedType } from 'graphql';
import { firstErrorCode, gql } from '@app/testing';
import { ADMIN_ONLY, ADMIN_ONLY_NOTE } from '../apps/api/src/auth/admin-only.decorator';
import { createTestApiApp } from './create-test-app';

/**
 * Every field the schema marks admin-only is called without the key and must be refused, so a new
 * admin operation cannot slip past unguarded. Arguments get placeholder values of their types.
 */
describe('admin operations (e2e)', () => {
  let app: NestFastifyApplication;
  let adminFields: Array<{ root: 'Query' | 'Mutation'; field: GraphQLField<unknown, unknown> }>;

  beforeAll(async () => {
    app = await createTestApiApp();
    // the schema the running server answers with, not a file that may lag behind the code
    adminFields = adminFieldsOf(app.get(GraphQLSchemaHost).schema);
  });
  afterAll(() => app.close());

  it('finds the admin fields in the schema', () => {
    const names = adminFields.map((f) => f.field.name);
    expect(names).toEqual(expect.arrayContaining(['deleteUser', 'retrain', 'trainingJob', 'models', 'model', 'activateModel']));
  });

  // the note is what clients read, the guard what protects: a guarded field without the note would
  // be missing from the walk below (and from what the schema tells), a noted one without the guard open
  it('marks exactly the guarded resolvers as admin-only in the schema', () => {
    expect(adminFields.map((f) => f.field.name).sort()).toEqual(guardedResolverMethods(app).sort());
  });

  it('refuses every admin field without the admin key, or with a wrong one', async () => {
    const accepted: string[] = [];
    for (const { root, field } of adminFields) {
      const query = `${root === 'Mutation' ? 'mutation' : 'query'} { ${field.name}${argsOf(field)} ${selectionOf(getNamedType(field.type))} }`;
      for (const headers of [{}, { authorization: 'Bearer not-the-key-000' }] as Record<string, string>[]) {
        const res = await gql(app, query, {}, headers);
        if (firstErrorCode(res) !== 'UNAUTHENTICATED') accepted.push(`${root}.${field.name} ${JSON.stringify(res.errors ?? res.data)}`);
      }
    }
    expect(accepted).toEqual([]);
  });
});

function adminFieldsOf(schema: GraphQLSchema) {
  return (['Query', 'Mutation'] as const).flatMap((root) =>
    Object.values((schema.getType(root) as GraphQLObjectType).getFields())
      .filter((f) => f.description?.startsWith(ADMIN_ONLY_NOTE))
      .map((field) => ({ root, field })),
  );
}

/** Resolver methods carrying @AdminOnly() (a GraphQL field is named after its method here). */
function guardedResolverMethods(app: NestFastifyApplication): string[] {
  const methods = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const proto = wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : null;
      if (!proto || proto === Object.prototype) continue;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const method = Object.getOwnPropertyDescriptor(proto, name)?.value;
        if (typeof method === 'function' && Reflect.getMetadata(ADMIN_ONLY, method) === true) methods.add(name);
      }
    }
  }
  return [...methods];
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
