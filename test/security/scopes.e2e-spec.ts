import { createHash } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SCOPES } from '@app/api-keys';
import { firstErrorCode, gql } from '@app/testing';
import { ApiKeyCache } from '../../apps/api/src/auth/api-key-cache.service';
import { createTestApiApp } from '../create-test-app';
import { admin } from '../test-env';
import { TestStack } from '../test-stack';
import { documentOf, requiredValues, type RootField } from './schema-fields';
import { bearer, createKey, schemaRootFields, storeCounts } from './security-stack';

const RECS = `{ recommendations(userId: "u1", limit: 3) { source } }`;
const RECORD = `mutation { recordInteractions(input: [{ userId: "u1", itemId: "i1" }]) { accepted } }`;

/**
 * Who may do what: every root field, generated from the schema (a new field is covered without
 * editing this file), refused without a key and with a key of each wrong scope; nothing written.
 */
describe('scoped API keys (attacks)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let fields: RootField[];
  /** One key per scope, holding that scope alone. */
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    process.env.PUBLIC_SCOPES = '';
    stack = await TestStack.start({ worker: false });
    api = stack.api;
    fields = schemaRootFields(api);
    for (const scope of SCOPES) keys[scope] = await createKey(api, `only-${scope}`, [scope]);
  });
  afterAll(() => stack.close());

  it('refuses every root field without a key: UNAUTHENTICATED naming the scope, nothing written', async () => {
    const before = await storeCounts(stack.db);
    const letThrough: string[] = [];
    for (const f of fields) {
      const res = await gql(api, documentOf(f), requiredValues(f.field), {});
      if (firstErrorCode(res) !== 'UNAUTHENTICATED' || !res.errors![0].message.includes(`"${f.scope}"`))
        letThrough.push(`${f.field.name} ${JSON.stringify(res.errors ?? res.data)}`);
    }
    expect(letThrough).toEqual([]);
    expect(await storeCounts(stack.db)).toEqual(before);
  });

  it('refuses every root field with a key of each wrong scope: FORBIDDEN naming the scope needed, nothing written', async () => {
    const before = await storeCounts(stack.db);
    const letThrough: string[] = [];
    let attacks = 0;
    for (const f of fields) {
      for (const scope of SCOPES.filter((s) => s !== f.scope)) {
        attacks++;
        const res = await gql(api, documentOf(f), requiredValues(f.field), bearer(keys[scope]));
        const error = res.errors?.[0];
        if (
          error?.extensions?.code !== 'FORBIDDEN' ||
          error.extensions.scope !== f.scope ||
          !error.message.includes(`"${f.scope}"`)
        ) {
          letThrough.push(`${f.field.name} with ${scope}: ${JSON.stringify(res.errors ?? res.data)}`);
        }
      }
    }
    expect(attacks).toBeGreaterThanOrEqual(fields.length * 4);
    expect(letThrough).toEqual([]);
    expect(await storeCounts(stack.db)).toEqual(before);
  });

  it('lets every root field through with a key of its own scope', async () => {
    const refused: string[] = [];
    for (const f of fields) {
      const res = await gql(api, documentOf(f), requiredValues(f.field), bearer(keys[f.scope!]));
      if (['UNAUTHENTICATED', 'FORBIDDEN'].includes(firstErrorCode(res) ?? '')) refused.push(f.field.name);
    }
    expect(refused).toEqual([]);
  });

  it('refuses an unknown key and a malformed header even where no key is needed', async () => {
    const open = await createTestApiApp({ PUBLIC_SCOPES: 'serve' });
    try {
      expect((await gql(open, RECS, {}, {})).errors).toBeUndefined();
      expect(firstErrorCode(await gql(open, RECORD, {}, {}))).toBe('UNAUTHENTICATED');
      for (const authorization of ['Bearer rk_not-a-key', 'Bearer ', 'Basic dXNlcjpwYXNz', keys.serve.slice(0, -1)]) {
        expect(firstErrorCode(await gql(open, RECS, {}, { authorization }))).toBe('UNAUTHENTICATED');
      }
      // a key keeps what it has where its scope is not the open one
      expect((await gql(open, RECORD, {}, bearer(keys.ingest))).errors).toBeUndefined();
    } finally {
      await open.close();
      process.env.PUBLIC_SCOPES = '';
    }
  });

  it('stores only the SHA-256 of a key, never the key', async () => {
    const key = await createKey(api, 'stored', ['serve']);
    const { rows } = await stack.db.query(
      `SELECT row_to_json(k)::text AS row, key_hash FROM api_keys k WHERE name = 'stored'`,
    );
    expect(rows[0].key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(rows[0].row).not.toContain(key);
    const listed = await gql(api, `{ apiKeys { name scopes revokedAt } }`, {}, admin);
    expect(listed.data!.apiKeys).toEqual(
      expect.arrayContaining([{ name: 'stored', scopes: ['serve'], revokedAt: null }]),
    );
    expect(JSON.stringify(listed)).not.toContain(key);
  });

  it('rejects a taken name, a bad name, no scopes and an unknown key to revoke with BAD_USER_INPUT, writing nothing', async () => {
    const before = await storeCounts(stack.db);
    const CREATE = `mutation C($n: String!, $s: [ApiScope!]!) { createApiKey(name: $n, scopes: $s) { key } }`;
    for (const [n, s] of [
      ['only-serve', ['serve']],
      ['bad name\n', ['serve']],
      ['x'.repeat(65), ['serve']],
      ['empty', []],
    ] as const) {
      expect(firstErrorCode(await gql(api, CREATE, { n, s }, admin))).toBe('BAD_USER_INPUT');
    }
    expect(firstErrorCode(await gql(api, CREATE, { n: 'wrong', s: ['root'] }, admin))).toBe('BAD_USER_INPUT');
    expect(firstErrorCode(await gql(api, `mutation { revokeApiKey(name: "nobody") { name } }`, {}, admin))).toBe(
      'BAD_USER_INPUT',
    );
    expect(await storeCounts(stack.db)).toEqual(before);
  });

  it('refuses a revoked key at once in the process that revoked it and, by the change message, in another', async () => {
    const other = await createTestApiApp({ PUBLIC_SCOPES: '' });
    try {
      const key = await createKey(api, 'soon-revoked', ['ingest']);
      // created in one process, usable in the other once the message arrives
      await eventually(async () => (await gql(other, RECORD, {}, bearer(key))).errors === undefined);
      const before = await storeCounts(stack.db);
      expect(
        (await gql(api, `mutation { revokeApiKey(name: "soon-revoked") { revokedAt } }`, {}, admin)).data!.revokeApiKey
          .revokedAt,
      ).toBeTruthy();
      expect(firstErrorCode(await gql(api, RECORD, {}, bearer(key)))).toBe('UNAUTHENTICATED');
      await eventually(async () => firstErrorCode(await gql(other, RECORD, {}, bearer(key))) === 'UNAUTHENTICATED');
      expect(await storeCounts(stack.db)).toEqual(before);
    } finally {
      await other.close();
    }
  });

  it("refuses a key revoked behind the processes' backs (no message) once the cache TTL runs out", async () => {
    const other = await createTestApiApp({ PUBLIC_SCOPES: '', API_KEY_CACHE_SECONDS: '1' });
    try {
      const key = await createKey(api, 'quietly-revoked', ['serve']);
      await eventually(async () => (await gql(other, RECS, {}, bearer(key))).errors === undefined);
      await stack.db.query(`UPDATE api_keys SET revoked_at = now() WHERE name = 'quietly-revoked'`);
      const started = Date.now();
      await eventually(async () => firstErrorCode(await gql(other, RECS, {}, bearer(key))) === 'UNAUTHENTICATED');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await other.close();
    }
  });

  it('writes last-use times in batches, not per request', async () => {
    const key = await createKey(api, 'used', ['serve']);
    for (let i = 0; i < 5; i++) expect((await gql(api, RECS, {}, bearer(key))).errors).toBeUndefined();
    const lastUsed = async () =>
      (await stack.db.query(`SELECT last_used_at FROM api_keys WHERE name = 'used'`)).rows[0].last_used_at;
    expect(await lastUsed()).toBeNull();
    await api.get(ApiKeyCache).flushLastUse();
    expect(await lastUsed()).toBeInstanceOf(Date);
  });
});

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
