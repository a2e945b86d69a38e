import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import type { Pool } from 'pg';
import { countRows, gql } from '@app/testing';
import { admin } from '../test-env';
import { rootFields, type RootField } from './schema-fields';

/** What the attacks must leave untouched. */
export async function storeCounts(db: Pool): Promise<Record<string, number>> {
  const tables = ['users', 'items', 'interactions', 'api_keys'] as const;
  return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await countRows(db, t)])));
}

/** Creates a key through the admin mutation; its plaintext. */
export async function createKey(app: NestFastifyApplication, name: string, scopes: string[]): Promise<string> {
  const res = await gql(
    app,
    `mutation C($n: String!, $s: [ApiScope!]!) { createApiKey(name: $n, scopes: $s) { key } }`,
    { n: name, s: scopes },
    admin,
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.createApiKey.key;
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export const schemaRootFields = (app: NestFastifyApplication): RootField[] =>
  rootFields(app.get(GraphQLSchemaHost).schema);
