import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { firstErrorCode, gql } from '@app/testing';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../test-env';
import { TestStack } from '../test-stack';
import { bearer, storeCounts } from './security-stack';

const ROOT = join(__dirname, '..', '..');
const RECS = `{ recommendations(userId: "u1", limit: 3) { source } }`;

/** `npm run keys`: exit code, one JSON line on stdout, the reason on stderr. */
async function keys(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL };
  return promisify(execFile)(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'scripts/keys.ts'), ...args], {
    cwd: ROOT,
    env,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

describe('npm run keys (e2e)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    process.env.PUBLIC_SCOPES = '';
    stack = await TestStack.start({ worker: false });
  });
  afterAll(() => stack.close());

  it('creates a key shown once, lists it without it, and revokes it; the API follows each change', async () => {
    const created = await keys('create', '--name', 'web', '--scopes', 'serve,ingest');
    expect(created.code).toBe(0);
    const { key, scopes } = JSON.parse(created.stdout);
    expect(scopes).toEqual(['serve', 'ingest']);
    expect(created.stderr).toContain('shown this once');
    await until(async () => (await gql(stack.api, RECS, {}, bearer(key))).errors === undefined);

    const listed = await keys('list');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).keys).toEqual([
      expect.objectContaining({ name: 'web', scopes: ['serve', 'ingest'], revokedAt: null }),
    ]);
    expect(listed.stdout).not.toContain(key);

    expect((await keys('revoke', 'web')).code).toBe(0);
    await until(async () => firstErrorCode(await gql(stack.api, RECS, {}, bearer(key))) === 'UNAUTHENTICATED');
  });

  it('refuses bad input with a clear message and a non-zero exit, writing nothing', async () => {
    const before = await storeCounts(stack.db);
    const cases: Array<[string[], RegExp]> = [
      [[], /usage: npm run keys/],
      [['rotate'], /usage: npm run keys/],
      [['create', '--name', 'x'], /create needs --name and --scopes/],
      [['create', '--name', 'x', '--scopes', 'serve,root'], /unknown scope "root"/],
      [['create', '--name', 'bad name', '--scopes', 'serve'], /key name must be 1-64 letters/],
      [['create', '--name', 'x', '--scopes', 'serve', '--admin'], /unknown option --admin/],
      [['revoke'], /revoke takes one key name/],
      [['revoke', 'nobody'], /no API key named "nobody"/],
    ];
    for (const [args, message] of cases) {
      const run = await keys(...args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(run.stderr).toMatch(message);
    }
    const twice = await keys('create', '--name', 'dup', '--scopes', 'serve');
    expect(twice.code).toBe(0);
    const again = await keys('create', '--name', 'dup', '--scopes', 'admin');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    expect(await storeCounts(stack.db)).toEqual({ ...before, api_keys: before.api_keys + 1 });
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
  expect(await check()).toBe(true);
}
