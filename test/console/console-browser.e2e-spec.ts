/// <reference lib="dom" />
// page.evaluate callbacks run in the browser: their code is typed against the DOM
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { importSynthetic } from '@app/ingest';
import { QueueName } from '@app/queue';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generateSynthetic, syntheticItemAttributes, syntheticItemId } from '@app/synthetic';
import { gql } from '@app/testing';
import { createKey } from '../security/security-stack';
import { admin, TEST_ADMIN_API_KEY, TEST_DATABASE_URL, TEST_EXPORT_DIR } from '../test-env';
import { TestStack } from '../test-stack';
import { startTraining, trainToCompletion, waitForTraining } from '../train-through-api';
import { ensureConsoleBuilt } from '../../scripts/console-build';
import { controlsTabMisses, launchChromium, screenshot, seriousViolations, sidewaysOverflow } from './browser';
import { kindPattern } from '@app/embedding-store';

const QUICK = { epochs: 3, embeddingDim: 16, hidden: [32], batchSize: 50, patience: 0, seed: 4 };
const DATA = generateSynthetic({ users: 300, items: 150, seed: 8, perUser: 15 });
const VIEWS = ['overview', 'models', 'training', 'map', 'users', 'exports'];

/** The admin console in Debian's Chromium against the real API and worker, as an operator uses it. */
describe('admin console (browser)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every /graphql answer the page received, for the scope checks. */
  let answers: Array<{ query: string; body: { data?: Record<string, unknown> | null; errors?: unknown[] } }>;

  const publishedItems = async (version: number) => (await stack.redis.keys(kindPattern(version, 'item'))).length;
  const activeVersion = async () =>
    (await stack.db.query(`SELECT version FROM model_versions WHERE status = 'ACTIVE'`)).rows[0]?.version as number;

  async function openPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    context = await browser.newContext({ viewport, acceptDownloads: true });
    const opened = await context.newPage();
    answers = [];
    opened.on('response', (res) => {
      if (!res.url().endsWith('/graphql')) return;
      const query = (res.request().postDataJSON() as { query: string }).query;
      void res.json().then(
        (body: (typeof answers)[number]['body']) => answers.push({ query, body }),
        () => undefined,
      );
    });
    return opened;
  }

  async function logIn(key: string): Promise<void> {
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Views' }).waitFor();
  }

  beforeAll(async () => {
    process.env.PUBLIC_SCOPES = '';
    ensureConsoleBuilt();
    // an earlier file's export files would answer for this file's job ids, which start again at 1
    await rm(TEST_EXPORT_DIR, { recursive: true, force: true });
    stack = await TestStack.start({ data: DATA });
    api = stack.api;
    const items = Array.from({ length: DATA.items }, (_, i) => ({
      id: syntheticItemId(i),
      attributes: syntheticItemAttributes(DATA, i),
    }));
    await gql(api, `mutation U($i: [ItemInput!]!) { upsertItems(input: $i) { id } }`, { i: items }, admin);
    await trainToCompletion(api, QUICK);
    await api.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.getHttpServer().address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack.close();
    // job ids start again in the next file, which must not find this file's export
    await rm(TEST_EXPORT_DIR, { recursive: true, force: true });
  });
  beforeEach(async () => {
    page = await openPage();
  });
  afterEach(async () => {
    await context.close();
  });

  it('shows only the login without a key, whatever view is asked for', async () => {
    await page.goto(`${base}/console/#/models`);
    await page.getByLabel('API key').waitFor();
    await screenshot(page, 'login');
    expect(await page.getByRole('navigation').count()).toBe(0);
    expect(await page.locator('main').innerText()).not.toMatch(/Versions|Version \d/);
    expect(answers).toEqual([]);
    // a wrong key stays at the login, told why
    await page.getByLabel('API key').fill('not-a-key-at-all');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').innerText()).resolves.toMatch(/not recognised/);
    expect(await page.getByRole('navigation').count()).toBe(0);
  });

  it('logs in with the admin key and shows the active version; the key is kept for the tab, never in a URL', async () => {
    await logIn(TEST_ADMIN_API_KEY);
    const shown = page.getByTestId('active-version');
    await shown.waitFor();
    expect(Number(await shown.innerText())).toBe(await activeVersion());
    await screenshot(page, 'overview');
    expect(page.url()).not.toContain(TEST_ADMIN_API_KEY);
    expect(await page.evaluate(() => sessionStorage.getItem('recoder.key'))).toBe(TEST_ADMIN_API_KEY);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    // the cookie session Bull Board reads: HttpOnly, so the page's scripts cannot read it
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'recoder_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect((await page.request.get(`${base}/admin/queues/api/queues`)).status()).toBe(200);
    // a reload keeps the session; logging out ends it
    await page.reload();
    await page.getByTestId('active-version').waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('recoder.key'))).toBeNull();
  });

  it('starts a retrain from the form and watches the progress bar reach done and a new version appear', async () => {
    const before = await activeVersion();
    await logIn(TEST_ADMIN_API_KEY);
    await page.getByRole('link', { name: 'Training' }).click();
    await page.getByRole('heading', { name: 'Start a retrain' }).waitFor();
    await page.getByLabel('Epochs (most)').fill('40');
    await page.getByLabel('Patience').fill('0');
    await page.getByLabel('Embedding size').fill('16');
    await page.getByLabel('Hidden widths').fill('32');
    await page.getByLabel('Batch size').fill('50');
    await page.getByLabel('Seed').fill('6');
    await page.getByLabel(/force/).check();
    // the last training is shown until this one starts
    const last = await page.getByTestId('training-progress').getAttribute('data-job');
    await page.getByRole('button', { name: 'Start training' }).click();
    const progress = page.locator(`[data-testid=training-progress]:not([data-job="${last}"])`);
    await progress.waitFor();
    const states = new Set<string>();
    const values: number[] = [];
    for (let i = 0; i < 1200; i++) {
      states.add((await progress.getAttribute('data-state'))!);
      values.push(Number(await page.locator('#train-progress').getAttribute('value')));
      if (states.has('COMPLETED')) break;
      await page.waitForTimeout(100);
    }
    expect(states).toContain('COMPLETED');
    expect(values[values.length - 1]).toBe(100);
    // the bar only moved forward
    expect(values).toEqual([...values].sort((a, b) => a - b));
    await expect(page.getByTestId('training-phase').innerText()).resolves.toBe('done 100%');
    const version = await activeVersion();
    expect(version).toBe(before + 1);
    await expect(page.getByTestId('training-version').innerText()).resolves.toMatch(
      new RegExp(`^Version ${version}: ACTIVE`),
    );
    // the curve of the finished training, and the new version among the models
    await expect(
      page.getByRole('img', { name: /Training loss and validation NDCG@100 over 40 epochs/ }).count(),
    ).resolves.toBe(1);
    await screenshot(page, 'training');
    await page.getByRole('link', { name: 'Models' }).click();
    await page.locator(`tr[data-version="${version}"]`).waitFor();
    await expect(page.locator(`tr[data-version="${version}"] .status`).innerText()).resolves.toBe('ACTIVE');
  });

  it("shows a failed training's error", async () => {
    // an empty store: the worker refuses to train on nothing (and does not retry)
    await stack.db.query('DELETE FROM interactions');
    try {
      await logIn(TEST_ADMIN_API_KEY);
      await page.goto(`${base}/console/#/training`);
      await page.getByLabel('Epochs (most)').fill('3');
      await page.getByRole('button', { name: 'Start training' }).click();
      const failed = page.locator('[data-testid=training-progress][data-state=FAILED]');
      await failed.waitFor({ timeout: 60_000 });
      await expect(page.getByTestId('training-error').innerText()).resolves.toBe(
        'Failed: There are no interactions to train on: record some first',
      );
      await screenshot(page, 'training-failed');
    } finally {
      await importSynthetic({ url: TEST_DATABASE_URL }, DATA);
    }
  });

  it('finds the queued training after a reload; asking again joins it rather than starting another', async () => {
    // workers take nothing from a paused queue: the job stays queued while the page reloads
    const queue = api.get<Queue>(getQueueToken(QueueName.Training));
    await queue.pause();
    try {
      const id = await startTraining(api, { ...QUICK, seed: 7 });
      await logIn(TEST_ADMIN_API_KEY);
      await page.goto(`${base}/console/#/training`);
      await page.reload();
      await page.getByRole('heading', { name: `Training job ${id}: queued` }).waitFor();
      await page.getByRole('button', { name: 'Join the running training' }).click();
      await page.getByRole('heading', { name: `Training job ${id}: queued` }).waitFor();
      const open = await gql(api, `{ trainingJobs(states: [QUEUED, RUNNING]) { id } }`, {}, admin);
      expect(open.data!.trainingJobs).toEqual([{ id }]);
      await queue.resume();
      await page.getByRole('heading', { name: `Training job ${id}: completed` }).waitFor({ timeout: 60_000 });
      await waitForTraining(api, id);
    } finally {
      await queue.resume();
    }
  });

  it('draws every item of the active version on the map; clicking an item lists its similar items', async () => {
    const version = await activeVersion();
    const items = await publishedItems(version);
    await logIn(TEST_ADMIN_API_KEY);
    await page.getByRole('link', { name: 'Map' }).click();
    const status = page.getByTestId('map-status');
    await page.waitForFunction(
      (n) =>
        document.querySelector('[data-testid=map-status]')?.textContent?.startsWith(`Version`) &&
        document.querySelector('canvas')?.getAttribute('data-points') === String(n),
      items,
    );
    expect(await status.innerText()).toMatch(new RegExp(`^Version ${version}: ${items} of ${items} items loaded`));
    // fitted to the view, every point is drawn
    await page.waitForFunction((n) => document.querySelector('canvas')?.dataset.drawn === String(n), items);

    await page.getByLabel('Colour by').selectOption('cluster');
    await expect(page.getByRole('list', { name: 'Colours: cluster' }).locator('li').count()).resolves.toBeGreaterThan(
      2,
    );

    // centre the map on one item, then click it there
    await page.getByLabel('Item id').fill('i3');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByTestId('similar-items').waitFor();
    await page.getByRole('button', { name: 'Fit' }).click();
    await page.getByLabel('Item id').fill('i12');
    await page.getByRole('button', { name: 'Find' }).click();
    const canvas = page.getByTestId('map-canvas');
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    // the view recentres, then the tooltip follows the pointer: wait for it rather than read it once
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=map-tooltip]')?.textContent?.startsWith('i12'),
    );
    await expect(page.getByTestId('map-tooltip').innerText()).resolves.toMatch(/^i12/);
    await page.getByRole('button', { name: 'Fit' }).click();
    await page.getByLabel('Item id').fill('i7');
    await page.keyboard.press('Enter');
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.getByRole('heading', { name: 'Item i7' }).waitFor();
    await expect(page.getByRole('heading', { name: 'Item i7' }).count()).resolves.toBe(1);
    const listed = page.getByTestId('similar-items').locator('li strong');
    const expected = await gql(api, `{ similarItems(itemId: "i7", limit: 10) { items { item { id } } } }`, {}, admin);
    const ids = expected.data!.similarItems.items.map((s: { item: { id: string } }) => s.item.id) as string[];
    // the list of the item found before is shown until i7's arrives: wait for i7's, then compare
    await page
      .waitForFunction(
        (want) =>
          [...document.querySelectorAll('[data-testid=similar-items] li strong')].map((e) => e.textContent).join() ===
          want.join(),
        ids,
        { timeout: 30_000 },
      )
      .catch(() => undefined);
    expect(await listed.allInnerTexts()).toEqual(ids);
    await screenshot(page, 'map');
  });

  it('rolls back to the previous version after a confirmation, and the active version changes', async () => {
    const live = await activeVersion();
    const previous = (
      await stack.db.query(`SELECT max(version) AS v FROM model_versions WHERE status = 'READY' AND version < $1`, [
        live,
      ])
    ).rows[0].v as number;
    await logIn(TEST_ADMIN_API_KEY);
    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByRole('button', { name: `Roll back to v${previous}` }).click();
    const dialog = page.getByRole('dialog', { name: `Make version ${previous} live?` });
    await dialog.waitFor();
    await screenshot(page, 'rollback-confirm');
    // cancelling changes nothing
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await activeVersion()).toBe(live);
    await page.getByRole('button', { name: `Roll back to v${previous}` }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: `Activate v${previous}` })
      .click();
    await page.waitForFunction(
      (v) => document.querySelector(`tr[data-version="${v}"] .status`)?.textContent === 'ACTIVE',
      previous,
    );
    expect(await activeVersion()).toBe(previous);
    await expect(page.locator(`tr[data-version="${live}"] .status`).innerText()).resolves.toBe('READY');
    await page.getByRole('link', { name: 'Overview' }).click();
    await expect(page.getByTestId('active-version').innerText()).resolves.toBe(String(previous));
  });

  it('gives a key without the admin scope no admin data: only the views its scopes allow', async () => {
    const key = await createKey(api, 'console-reader', ['serve', 'embeddings']);
    await logIn(key);
    const views = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allInnerTexts();
    expect(views).toEqual(['Map', 'Users']);
    await page.getByTestId('map-status').waitFor();
    await page.waitForFunction(() => document.querySelector('canvas')?.getAttribute('data-points') !== '0');
    for (const view of ['overview', 'models', 'training', 'exports']) {
      await page.goto(`${base}/console/#/${view}`);
      await expect(page.getByRole('status').first().innerText()).resolves.toMatch(/needs a key with the admin scope/);
    }
    await page.goto(`${base}/console/#/users/u1`);
    await page.getByTestId('user-recommendations').locator('li').first().waitFor();
    await screenshot(page, 'reader-users');
    expect(await page.getByText('History (newest 50)').count()).toBe(0);
    // nothing admin was asked for, so nothing was refused either
    const asked = answers.map((a) => a.query).join('\n');
    for (const field of [
      'stats',
      'models',
      'model(',
      'trainingJobs',
      'queues',
      'user(id',
      'userAnomaly',
      'anomalousUsers',
      'exportJobs',
    ]) {
      expect(asked).not.toContain(field);
    }
    expect(answers.flatMap((a) => a.body.errors ?? [])).toEqual([]);
    expect(answers.length).toBeGreaterThan(0);
  });

  it('exports the active version and downloads a file whose sha256 is the one shown', async () => {
    await logIn(TEST_ADMIN_API_KEY);
    await page.getByRole('link', { name: 'Exports' }).click();
    await page.getByLabel('Vectors').selectOption('ITEM');
    await page.getByLabel('Format').selectOption('NPY');
    await page.getByRole('button', { name: 'Export the active version' }).click();
    const job = page.locator('[data-testid=export-job][data-state=COMPLETED]').first();
    await job.waitFor({ timeout: 60_000 });
    const row = job.locator('tr', { hasText: 'ids.txt' });
    const shown = await row.locator('td.hash').innerText();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: 'Download ids.txt' }).click(),
    ]);
    const body = readFileSync(await download.path());
    expect(createHash('sha256').update(body).digest('hex')).toBe(shown);
    expect(body.toString('utf8').trim().split('\n')).toHaveLength(await publishedItems(await activeVersion()));
    await screenshot(page, 'exports');
  });

  it.each(VIEWS)(
    '%s: no serious or critical axe finding, Tab reaches every control, no sideways scroll at 360 px',
    async (view) => {
      await logIn(TEST_ADMIN_API_KEY);
      await page.goto(`${base}/console/#/${view}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      if (view === 'users') {
        await page.goto(`${base}/console/#/users/u1`);
        await page.getByTestId('user-details').waitFor();
      }
      expect(await seriousViolations(page)).toEqual([]);
      expect(await controlsTabMisses(page)).toEqual([]);
      await page.setViewportSize({ width: 360, height: 800 });
      // charts follow their box's width on the next resize callback
      await page.waitForTimeout(500);
      expect(await sidewaysOverflow(page)).toEqual([]);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `${view}-360`);
    },
  );
});
