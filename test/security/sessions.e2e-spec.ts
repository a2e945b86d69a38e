import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { hashApiKey } from '@app/api-keys';
import { firstErrorCode, gql } from '@app/testing';
import { BrowserAccess } from '../../apps/api/src/auth/browser-access';
import { Signatures } from '../../apps/api/src/auth/signatures';
import { createTestApiApp } from '../create-test-app';
import { admin, TEST_EXPORT_DIR } from '../test-env';
import { TestStack } from '../test-stack';
import { bearer, createKey, storeCounts } from './security-stack';

const SECRET = 'not-for-download';
/** An export directory inside EXPORT_DIR, and a look-alike outside it that traversal would reach. */
const EXPORT_ID = '77';
const OUTSIDE = join(dirname(TEST_EXPORT_DIR), `recoder-outside-${process.env.RECODER_TEST_RUN ?? process.pid}`);

async function fakeExport(dir: string, content: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ids.txt'), content);
  await writeFile(
    join(dir, 'manifest.json'),
    JSON.stringify({ count: 1, files: [{ name: 'ids.txt', bytes: content.length, sha256: '' }] }),
  );
}

/** Browser pages and downloads: a session cookie or a signed link, never a key in a URL. */
describe('sessions, signed links and downloads (attacks)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let serveKey: string;
  const http = () => request(api.getHttpServer());

  beforeAll(async () => {
    process.env.PUBLIC_SCOPES = '';
    stack = await TestStack.start({ worker: false });
    api = stack.api;
    serveKey = await createKey(api, 'browser-serve', ['serve']);
    await fakeExport(join(TEST_EXPORT_DIR, `export-${EXPORT_ID}`), 'u1\n');
    await fakeExport(OUTSIDE, SECRET);
  });
  afterAll(async () => {
    await rm(OUTSIDE, { recursive: true, force: true });
    await stack.close();
  });

  const login = async (key: string) => http().post('/auth/session').set(bearer(key));
  const sessionOf = (res: request.Response): string => String(res.headers['set-cookie']).split(';')[0];

  it('sets an HttpOnly, SameSite=Strict session cookie that holds no key; a bad key gets 401 and no cookie', async () => {
    const res = await login(serveKey);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'browser-serve', scopes: ['serve'] });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^recoder_session=[^;]+; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(serveKey);
    const byBody = await http().post('/auth/session').send({ key: serveKey });
    expect(byBody.status).toBe(200);

    for (const bad of [
      http().post('/auth/session').set(bearer('rk_forged')),
      http().post('/auth/session').send({ key: 42 }),
      http().post('/auth/session'),
    ]) {
      const refused = await bad;
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('UNAUTHENTICATED');
      expect(refused.headers['set-cookie']).toBeUndefined();
    }
    const out = await http().delete('/auth/session');
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^recoder_session=; Max-Age=0;.*HttpOnly; SameSite=Strict$/);
  });

  it('marks the cookie Secure when SESSION_COOKIE_SECURE=true', async () => {
    const secure = await createTestApiApp({ SESSION_COOKIE_SECURE: 'true' });
    try {
      const res = await request(secure.getHttpServer()).post('/auth/session').set(admin);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      await secure.close();
    }
  });

  it("opens Bull Board's data to an admin session only; its assets load without a key", async () => {
    expect((await http().get('/admin/queues/api/queues')).status).toBe(401);
    expect(
      (
        await http()
          .get('/admin/queues/api/queues')
          .set('cookie', sessionOf(await login(serveKey)))
      ).status,
    ).toBe(403);
    const ok = await http()
      .get('/admin/queues/api/queues')
      .set('cookie', sessionOf(await login(admin.authorization.slice(7))));
    expect(ok.status).toBe(200);
    expect(ok.body.queues.length).toBeGreaterThan(0);
    // a key in the URL is never read
    expect((await http().get(`/admin/queues/api/queues?key=${admin.authorization.slice(7)}`)).status).toBe(401);
    expect((await http().get('/admin/queues/static/../api/queues')).status).not.toBe(200);
    const page = await http().get('/admin/queues');
    expect(page.status).toBe(401);
  });

  it("refuses a forged, tampered or expired session cookie, and a revoked key's session", async () => {
    const signatures = api.get(Signatures);
    const adminHash = hashApiKey(admin.authorization.slice(7));
    const past = Math.floor(Date.now() / 1000) - 1;
    const valid = sessionOf(await login(admin.authorization.slice(7))).split('=')[1];
    const [, expires, signature] = valid.split('.');
    const forged = [
      `${hashApiKey(serveKey)}.${expires}.${signature}`, // another key's hash under this signature
      `${adminHash}.${Number(expires) + 3600}.${signature}`, // a longer life
      `${adminHash}.${past}.${signatures.sign(adminHash, past)}`, // genuine but expired
      `${adminHash}.${expires}.`,
      adminHash,
    ];
    for (const token of forged)
      expect((await http().get('/admin/queues/api/queues').set('cookie', `recoder_session=${token}`)).status).toBe(401);

    const doomed = await createKey(api, 'doomed-admin', ['admin']);
    const session = sessionOf(await login(doomed));
    expect((await http().get('/admin/queues/api/queues').set('cookie', session)).status).toBe(200);
    await gql(api, `mutation { revokeApiKey(name: "doomed-admin") { name } }`, {}, admin);
    expect((await http().get('/admin/queues/api/queues').set('cookie', session)).status).toBe(401);
  });

  it("does not take a session cookie as a key on /graphql (other sites' forms cannot act for the user)", async () => {
    const before = await storeCounts(stack.db);
    const session = sessionOf(await login(admin.authorization.slice(7)));
    const res = await request(api.getHttpServer())
      .post('/graphql')
      .set('cookie', session)
      .send({ query: 'mutation { deleteUser(id: "u1") { found } }' });
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await storeCounts(stack.db)).toEqual(before);
  });

  it('serves an export file to an admin key, session or signed link; refuses a forged, expired or reused link', async () => {
    const path = `/exports/${EXPORT_ID}/ids.txt`;
    expect((await http().get(path)).status).toBe(401);
    expect((await http().get(path).set(bearer(serveKey))).status).toBe(403);
    expect(String((await http().get(path).set(admin)).body)).toBe('u1\n');
    expect(
      String(
        (
          await http()
            .get(path)
            .set('cookie', sessionOf(await login(admin.authorization.slice(7))))
        ).body,
      ),
    ).toBe('u1\n');

    const access = api.get(BrowserAccess);
    const { url } = access.signedLink(path, 60);
    expect(String((await http().get(url)).body)).toBe('u1\n');
    const query = new URL(url, 'http://x').searchParams;
    const expired = access.signedLink(path, -1).url;
    const bad = [
      `${path}?expires=${query.get('expires')}&signature=${query.get('signature')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
      `${path}?expires=${Number(query.get('expires')) + 3600}&signature=${query.get('signature')}`,
      `/exports/${EXPORT_ID}/manifest.json?${query.toString()}`, // another file under this file's signature
      `${path}?signature=${query.get('signature')}`,
      expired,
    ];
    for (const link of bad) {
      const res = await http().get(link);
      expect({ link, status: res.status, code: res.body.code }).toEqual({ link, status: 401, code: 'UNAUTHENTICATED' });
    }
  });

  it("mints signed links only for an admin, only for a finished export's listed file", async () => {
    const LINK = `query L($id: ID!, $f: String!, $s: Int) { exportDownloadLink(id: $id, file: $f, seconds: $s) { url expiresAt } }`;
    expect(firstErrorCode(await gql(api, LINK, { id: EXPORT_ID, f: 'ids.txt' }, bearer(serveKey)))).toBe('FORBIDDEN');
    expect(firstErrorCode(await gql(api, LINK, { id: 'no-such-job', f: 'ids.txt' }, admin))).toBe('NOT_FOUND');
    expect(firstErrorCode(await gql(api, LINK, { id: EXPORT_ID, f: 'ids.txt', s: 86_401 }, admin))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('serves no GraphiQL unless GRAPHIQL=true, whatever NODE_ENV says', async () => {
    expect((await http().get('/graphiql')).status).toBe(404);
  });

  it('never serves a file outside the export directory, however the path is encoded', async () => {
    const outside = `..%2F${encodeURIComponent(OUTSIDE.split('/').pop()!)}`;
    const attempts = [
      `/exports/${outside}/ids.txt`,
      `/exports/${outside.replace('%2F', '%252F')}/ids.txt`,
      `/exports/..%2F..%2F..%2Fetc/passwd`,
      `/exports/${EXPORT_ID}/..%2F..%2F..%2Fetc%2Fpasswd`,
      `/exports/${EXPORT_ID}/%2e%2e%2fmanifest.json`,
      `/exports/${EXPORT_ID}/..%5C..%5Cmanifest.json`,
      `/exports/%2e%2e/ids.txt`,
      `/exports/${EXPORT_ID}/ids.txt%00.npy`,
    ];
    for (const path of attempts) {
      const res = await http().get(path).set(admin);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(String(res.body) + res.text).not.toContain(SECRET);
      expect(String(res.body) + res.text).not.toContain('root:');
    }
  });
});
