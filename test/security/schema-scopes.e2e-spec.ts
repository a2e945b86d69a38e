import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModulesContainer } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import type { GraphQLSchema } from 'graphql';
import { SCOPE_METADATA } from '../../apps/api/src/auth/requires-scope.decorator';
import { ScopeGuard } from '../../apps/api/src/auth/scope.guard';
import { createTestApiApp } from '../create-test-app';
import { resolvedFields, rootFields } from './schema-fields';

/** The scope of each field as the issue assigns them; a field not listed still has to declare one. */
const ASSIGNED: Record<string, string> = {
  recordInteractions: 'ingest',
  recommendations: 'serve',
  recommendationsForItems: 'serve',
  similarItems: 'serve',
  item: 'serve',
  userEmbedding: 'embeddings',
  embeddings: 'embeddings',
  embeddingMap: 'embeddings',
  upsertItems: 'catalogue',
  user: 'admin',
  stats: 'admin',
  userAnomaly: 'admin',
  anomalousUsers: 'admin',
  deleteUser: 'admin',
  models: 'admin',
  retrain: 'admin',
  activateModel: 'admin',
  experiment: 'admin',
  promoteExperiment: 'admin',
  abortExperiment: 'admin',
  exportEmbeddings: 'admin',
  exportDownloadLink: 'admin',
  createApiKey: 'admin',
  apiKeys: 'admin',
  revokeApiKey: 'admin',
  // what the admin console reads
  trainingJobs: 'admin',
  queues: 'admin',
  ingestRate: 'admin',
  anomalyHistogram: 'admin',
  exportJobs: 'admin',
  embeddingMapPage: 'embeddings',
};

/** The schema itself says who may call what: every root and resolved field declares a scope, and the guard enforces that one. */
describe('every field declares its scope (schema walk)', () => {
  let app: NestFastifyApplication;
  let schema: GraphQLSchema;

  beforeAll(async () => {
    app = await createTestApiApp();
    // the schema the running server answers with, not a file that may lag behind the code
    schema = app.get(GraphQLSchemaHost).schema;
  });
  afterAll(() => app.close());

  it('declares a scope on every root field, the one the issue assigns where it names one', () => {
    const fields = rootFields(schema);
    expect(fields.length).toBeGreaterThanOrEqual(Object.keys(ASSIGNED).length);
    expect(fields.filter((f) => !f.scope).map((f) => `${f.root}.${f.field.name}`)).toEqual([]);
    const declared = Object.fromEntries(fields.map((f) => [f.field.name, f.scope]));
    expect(Object.fromEntries(Object.keys(ASSIGNED).map((name) => [name, declared[name]]))).toEqual(ASSIGNED);
  });

  it('declares a scope on every resolved (nested) field', () => {
    const fields = resolvedFields(schema);
    expect(fields.map((f) => `${f.type}.${f.field.name}`)).toEqual(
      expect.arrayContaining(['User.interactions', 'User.interactionCount', 'MapPagePoint.attributes']),
    );
    expect(fields.filter((f) => !f.scope).map((f) => `${f.type}.${f.field.name}`)).toEqual([]);
  });

  it('tells clients in each field description which scope it needs', () => {
    const missing = [...rootFields(schema), ...resolvedFields(schema)].filter(
      (f) => !f.field.description?.endsWith(`Scope: ${f.scope}.`),
    );
    expect(missing.map((f) => f.field.name)).toEqual([]);
  });

  // the schema's scope is what clients read, the guard what protects: each declared one must come with the guard
  it('guards exactly the resolver methods that declare a scope', () => {
    const schemaFields = [...rootFields(schema), ...resolvedFields(schema)].map((f) => f.field.name).sort();
    expect(guardedResolverMethods(app).sort()).toEqual(schemaFields);
  });
});

/** Resolver methods carrying @RequiresScope (a GraphQL field is named after its method here), with ScopeGuard attached. */
function guardedResolverMethods(app: NestFastifyApplication): string[] {
  const methods = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const proto = wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : null;
      if (!proto || proto === Object.prototype) continue;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const method = Object.getOwnPropertyDescriptor(proto, name)?.value;
        if (typeof method !== 'function' || !Reflect.getMetadata(SCOPE_METADATA, method)) continue;
        const guards: unknown[] = Reflect.getMetadata('__guards__', method) ?? [];
        if (guards.includes(ScopeGuard)) methods.add(name);
      }
    }
  }
  return [...methods];
}
