import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getNamedType, GraphQLInputType, isListType, isNonNullType } from 'graphql';
import request from 'supertest';
import { createRng, Rng } from '@app/random';
import { gql } from '@app/testing';
import { TestStack } from '../test-stack';
import { admin } from '../test-env';
import { documentOf, idPathsOf, requiredValues, RootField, valuesWith } from './schema-fields';
import { schemaRootFields, storeCounts } from './security-stack';

const SEED = 28;
const CASES_PER_FIELD = 100;

/** Values no argument of the named type accepts (GraphQL coercion or the input rules refuse them). */
const WRONG: Record<string, unknown[]> = {
  Int: [2 ** 31, -(2 ** 31) - 1, 1.5, '1', true, {}, [1, 2], 1e308, -0.5],
  Float: ['x', {}, true, [1], '1e3'],
  ID: [{}, [[]], true, 1.5, { id: 'x' }],
  String: [{}, [['x']], true, 1, 1.5],
  Boolean: ['yes', 1, {}, 'true', []],
  DateTime: ['yesterday', 1, '9999-99-99', {}, '2024-01-01T25:61:00Z'],
  JSONObject: ['x', 1, [1], true],
};
const WRONG_OTHER = ['NOT_A_VALUE', 17, [[1]], 'x', { nested: { deeper: [] } }];
const BAD_STRINGS = ['\u0000', 'a\nb', '\ud800', '', ' ', 'x'.repeat(300), 'a\u0007b', '\u2029'];

type Case = { query: string; variables: Record<string, unknown> };

/**
 * Seeded fuzzing of every root field: malformed documents and variable sets, each built so that
 * no field could accept it (wrong types, missing or null arguments, out-of-range numbers, bad
 * strings, oversized lists, deep nesting, truncated or unknown syntax). The server must answer
 * each with an error code other than INTERNAL_SERVER_ERROR, keep running, and write nothing.
 */
describe('fuzzing every root field (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let fields: RootField[];

  beforeAll(async () => {
    stack = await TestStack.start({ worker: false });
    api = stack.api;
    fields = schemaRootFields(api);
  });
  afterAll(() => stack.close());

  it(`answers ${CASES_PER_FIELD} malformed requests per root field without an internal error or a write`, async () => {
    const rng = createRng(SEED);
    const before = await storeCounts(stack.db);
    const failures: string[] = [];
    let sent = 0;
    for (const root of fields) {
      for (let k = 0; k < CASES_PER_FIELD; k++) {
        const { query, variables } = malformed(root, rng);
        const res = await request(api.getHttpServer()).post('/graphql').set(admin).send({ query, variables });
        sent++;
        const errors: Array<{ extensions?: { code?: string } }> = res.body?.errors ?? [];
        const bad =
          res.status >= 500 ||
          errors.length === 0 ||
          errors.some((e) => !e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR');
        if (bad)
          failures.push(
            `${root.field.name} ${res.status} ${JSON.stringify(res.body).slice(0, 300)} <- ${query.slice(0, 200)} ${JSON.stringify(variables).slice(0, 200)}`,
          );
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(2000);
    expect(await storeCounts(stack.db)).toEqual(before);
    // still up and answering
    expect((await request(api.getHttpServer()).get('/health')).status).toBe(200);
    expect((await gql(api, '{ stats { users } }', {}, admin)).data).toEqual({ stats: { users: before.users } });
  });
});

/** One malformed request for the field, of a kind chosen by the seed among those that apply. */
function malformed(root: RootField, rng: Rng): Case {
  const { field } = root;
  const query = documentOf(root);
  const valid = requiredValues(field);
  const required = field.args.filter((a) => isNonNullType(a.type));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng.next() * items.length)];
  const kinds: Array<() => Case> = [
    // syntax: a document cut short never balances its braces
    () => ({ query: query.slice(0, 1 + Math.floor(rng.next() * (query.length - 2))), variables: valid }),
    // an argument the field does not have
    () => ({
      query: query.replace(`{ ${field.name}`, `{ ${field.name}(bogus${Math.floor(rng.next() * 1e6)}: 1)`),
      variables: valid,
    }),
    // selections past the depth limit (on a scalar field: any selection is an error)
    () => ({ query: documentOf(root, '{ a { b { c { d { e { f { g { h } } } } } } } }'), variables: valid }),
    // a field the type does not have
    () => ({ query: documentOf(root, `{ no_such_field_${Math.floor(rng.next() * 1e6)} }`), variables: valid }),
  ];
  if (field.args.length > 0) {
    // a wrong type for an argument
    kinds.push(() => {
      const arg = pick(field.args);
      return { query, variables: { ...valid, [arg.name]: pick(wrongFor(arg.type)) } };
    });
  }
  if (required.length > 0) {
    kinds.push(() => {
      const arg = pick(required);
      const { [arg.name]: _dropped, ...rest } = valid;
      // missing, or null
      return { query, variables: rng.next() < 0.5 ? rest : { ...valid, [arg.name]: null } };
    });
  }
  const idPaths = idPathsOf(field);
  if (idPaths.length > 0) {
    kinds.push(() => ({ query, variables: valuesWith(field, pick(idPaths), pick(BAD_STRINGS)) }));
    const lists = idPaths.filter((p) => typeof p[p.length - 1] === 'number');
    // a list of ids past every bound (1,000 ids, 10,000 events)
    if (lists.length > 0) {
      kinds.push(() => {
        const big = Array.from({ length: 10_001 }, (_, i) => `id${i}`);
        return { query, variables: valuesWith(field, pick(lists).slice(0, -1), big) };
      });
    }
  }
  const jsonPaths = jsonObjectPaths(root);
  if (jsonPaths.length > 0) {
    // attributes nested far past 5 levels
    kinds.push(() => {
      let deep: Record<string, unknown> = { leaf: 1 };
      for (let d = 0; d < 10 + Math.floor(rng.next() * 40); d++) deep = { d: deep };
      return { query, variables: valuesWith(field, pick(jsonPaths), deep) };
    });
  }
  return pick(kinds)();
}

function wrongFor(type: GraphQLInputType): unknown[] {
  const inner = isNonNullType(type) ? type.ofType : type;
  // a list argument given a wrong element still fails (and a scalar where a list goes is coerced: avoid)
  if (isListType(inner)) return wrongFor(inner.ofType).map((v) => [v]);
  return WRONG[getNamedType(inner).name] ?? WRONG_OTHER;
}

/** Paths of JSON-object inputs (attributes, attribute filters). */
function jsonObjectPaths({ field }: RootField): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (type: GraphQLInputType, path: (string | number)[]) => {
    if (isNonNullType(type)) return walk(type.ofType, path);
    if (isListType(type)) return walk(type.ofType, [...path, 0]);
    const named = getNamedType(type);
    if (named.name === 'JSONObject') out.push(path);
    else if ('getFields' in named) for (const f of Object.values(named.getFields())) walk(f.type, [...path, f.name]);
  };
  for (const arg of field.args) walk(arg.type, [arg.name]);
  return out;
}
