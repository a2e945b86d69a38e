/// <reference lib="dom" />
// page.evaluate callbacks run in the browser: their code is typed against the DOM
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generateSynthetic } from '@app/synthetic';
import { gql } from '@app/testing';
import { createKey } from '../security/security-stack';
import { admin, TEST_ADMIN_API_KEY } from '../test-env';
import { TestStack } from '../test-stack';
import { trainToCompletion } from '../train-through-api';
import { ensureConsoleBuilt } from '../../scripts/console-build';
import { controlsTabMisses, launchChromium, screenshot, seriousViolations, sidewaysOverflow } from './browser';

const QUICK = { epochs: 3, embeddingDim: 16, hidden: [32], batchSize: 50, patience: 0 };
const DATA = generateSynthetic({ users: 200, items: 100, seed: 5, perUser: 12 });
const RECS = `query R($u: ID!) { recommendations(userId: $u, limit: 5) { recommendationId modelVersion items { item { id } } } }`;
const REPORT = `mutation I($rid: String!, $items: [ID!]!) { reportImpressions(recommendationId: $rid, itemIds: $items) { accepted } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted } }`;
const START = `mutation S($v: Int!, $t: Float!) { activateModel(version: $v, traffic: $t) { status } }`;
const ONLINE = `{ experiment { online { arms { role answers impressions positives ctr ctrStandardError }
  ctrDifference { difference low high } } } }`;

interface ArmFigures {
  role: string;
  answers: number;
  impressions: number;
  positives: number;
  ctr: number | null;
  ctrStandardError: number | null;
}

/** The Experiments view in Debian's Chromium against the real API and worker, as an operator runs an experiment. */
describe('admin console: experiments (browser)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let control: number;
  let canary: number;
  /** The queries the page sent to /graphql. */
  let asked: string[];

  async function logIn(key: string): Promise<void> {
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Views' }).waitFor();
  }

  /** One answer for the user, as a client asks (counted online), from whichever arm they are in. */
  async function answer(user: string) {
    const res = await gql(api, RECS, { u: user }, admin);
    expect(res.errors).toBeUndefined();
    const r = res.data!.recommendations as {
      recommendationId: string;
      modelVersion: number;
      items: { item: { id: string } }[];
    };
    return { rid: r.recommendationId, version: r.modelVersion, ids: r.items.map((i) => i.item.id) };
  }

  async function online(): Promise<{ arms: ArmFigures[]; ctrDifference: { difference: number } | null }> {
    const res = await gql(api, ONLINE, {}, admin);
    expect(res.errors).toBeUndefined();
    return res.data!.experiment.online;
  }

  beforeAll(async () => {
    process.env.PUBLIC_SCOPES = '';
    // the counts reach Postgres soon after they are made, so the page sees them within a poll
    process.env.ONLINE_METRICS_FLUSH_MS = '100';
    ensureConsoleBuilt();
    stack = await TestStack.start({ data: DATA });
    api = stack.api;
    // two trained versions: the second ACTIVE (the control), the first READY (the canary to try)
    canary = (await trainToCompletion(api, { ...QUICK, seed: 3 })).version;
    control = (await trainToCompletion(api, { ...QUICK, seed: 4 })).version;
    await api.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.getHttpServer().address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    delete process.env.ONLINE_METRICS_FLUSH_MS;
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    asked = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/graphql')) asked.push((req.postDataJSON() as { query: string }).query);
    });
  });
  afterEach(async () => {
    await context.close();
  });

  it('starts an experiment, shows both arms, their traffic and CTR once clicks are recorded, and aborts it', async () => {
    await logIn(TEST_ADMIN_API_KEY);
    await page.getByRole('link', { name: 'Experiments' }).click();
    await page.getByTestId('no-experiment').waitFor();
    await page.getByLabel('Canary version', { exact: true }).selectOption(String(canary));
    await page.getByLabel('Traffic (% of users)').fill('50');
    await page.getByRole('button', { name: 'Start experiment' }).click();

    const arms = page.getByTestId('experiment-arms');
    await arms.waitFor();
    const row = (role: string) => arms.locator(`tr[data-role=${role}]`);
    await expect(row('CONTROL').locator('td').first().innerText()).resolves.toBe(String(control));
    await expect(row('CANARY').locator('td').first().innerText()).resolves.toBe(String(canary));
    await expect(row('CONTROL').locator('td.traffic').innerText()).resolves.toBe('50%');
    await expect(row('CANARY').locator('td.traffic').innerText()).resolves.toBe('50%');
    const running = await stack.db.query(`SELECT canary_version, traffic FROM experiments WHERE ended_at IS NULL`);
    expect(running.rows).toEqual([{ canary_version: canary, traffic: 0.5 }]);
    await expect(page.getByTestId('ctr-difference').innerText()).resolves.toMatch(/not yet/);

    // until the API process has loaded the canary, every answer comes from the control
    for (let i = 0; (await answer(`u${i % 40}`)).version !== canary; i++) {
      if (i > 600) throw new Error('no answer came from the canary');
      await new Promise((r) => setTimeout(r, 100));
    }
    // clients answer their users, report what they showed, and a third of the users click the first item
    const before = await online();
    const given = new Map<number, { answers: number; impressions: number; clicks: number }>();
    for (let u = 0; u < 120; u++) {
      const { rid, version, ids } = await answer(`u${u}`);
      const tally = given.get(version) ?? { answers: 0, impressions: 0, clicks: 0 };
      tally.answers += 1;
      expect((await gql(api, REPORT, { rid, items: ids }, admin)).errors).toBeUndefined();
      tally.impressions += ids.length;
      if (u % 3 === 0) {
        const event = { userId: `u${u}`, itemId: ids[0], type: 'click', recommendationId: rid };
        expect((await gql(api, RECORD, { input: [event] }, admin)).errors).toBeUndefined();
        tally.clicks += 1;
      }
      given.set(version, tally);
    }
    expect([...given.keys()].sort()).toEqual([control, canary].sort());

    // the API's figures once every count is written, then the page shows the same ones
    const expected = (role: string, version: number) => {
      const b = before.arms.find((a) => a.role === role)!;
      const t = given.get(version)!;
      return {
        answers: b.answers + t.answers,
        impressions: b.impressions + t.impressions,
        positives: b.positives + t.clicks,
      };
    };
    const want = { CONTROL: expected('CONTROL', control), CANARY: expected('CANARY', canary) };
    let figures = await online();
    for (let i = 0; i < 600; i++) {
      const done = figures.arms.every((a) => {
        const w = want[a.role as 'CONTROL' | 'CANARY'];
        return a.answers >= w.answers && a.impressions === w.impressions && a.positives === w.positives;
      });
      if (done && figures.ctrDifference) break;
      await new Promise((r) => setTimeout(r, 100));
      figures = await online();
    }
    expect(figures.arms.map((a) => ({ role: a.role, impressions: a.impressions, positives: a.positives }))).toEqual(
      expect.arrayContaining(
        (['CONTROL', 'CANARY'] as const).map((role) => ({
          role,
          impressions: want[role].impressions,
          positives: want[role].positives,
        })),
      ),
    );
    for (const arm of figures.arms) {
      await page.waitForFunction(
        ({ role, impressions }) =>
          document.querySelector(`tr[data-role=${role}] td.impressions`)?.textContent ===
          new Intl.NumberFormat('en').format(impressions),
        { role: arm.role, impressions: arm.impressions },
        { timeout: 60_000 },
      );
      await expect(row(arm.role).locator('td.positives').innerText()).resolves.toBe(String(arm.positives));
      await expect(row(arm.role).locator('td.ctr').innerText()).resolves.toBe(
        `${arm.ctr!.toFixed(4)} ± ${arm.ctrStandardError!.toFixed(4)}`,
      );
    }
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=ctr-difference]')?.textContent?.includes('95% interval'),
    );
    await expect(page.getByTestId('ctr-difference').innerText()).resolves.toContain(
      `(canary − control): ${figures.ctrDifference!.difference.toFixed(4)}, 95% interval`,
    );
    // CTR per hour of each arm's version
    await page.getByRole('img', { name: /CTR per hour of control version/ }).waitFor();
    // each arm's line and its hourly 95% band, named once each
    await expect(page.locator('figcaption .key').allInnerTexts()).resolves.toEqual([
      `control v${control}`,
      `canary v${canary}`,
      `control v${control}, 95% per hour`,
      `canary v${canary}, 95% per hour`,
    ]);
    expect(asked.some((q) => q.includes('onlineMetrics'))).toBe(true);

    await page.waitForLoadState('networkidle');
    expect(await seriousViolations(page)).toEqual([]);
    expect(await controlsTabMisses(page)).toEqual([]);
    await screenshot(page, 'experiments');
    await page.setViewportSize({ width: 360, height: 800 });
    // charts follow their box's width on the next resize callback
    await page
      .waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth, undefined, {
        timeout: 10_000,
      })
      .catch(() => undefined);
    expect(await sidewaysOverflow(page)).toEqual([]);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'experiments-360');
    await page.setViewportSize({ width: 1280, height: 900 });

    // aborting asks first; cancelling changes nothing
    await page.getByRole('button', { name: 'Abort experiment' }).click();
    const dialog = page.getByRole('dialog', { name: 'Abort the experiment?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await stack.db.query(`SELECT 1 FROM experiments WHERE ended_at IS NULL`)).rowCount).toBe(1);
    await page.getByRole('button', { name: 'Abort experiment' }).click();
    await dialog.getByRole('button', { name: 'Abort experiment' }).click();
    await page.getByTestId('experiment-ended').waitFor();
    await expect(page.getByTestId('experiment-ended').innerText()).resolves.toMatch(/: aborted/);
    await page.getByTestId('no-experiment').waitFor();
    expect(await page.getByTestId('experiment-arms').count()).toBe(0);
    const versions = await stack.db.query(`SELECT version, status FROM model_versions ORDER BY version`);
    expect(versions.rows).toEqual(
      expect.arrayContaining([
        { version: control, status: 'ACTIVE' },
        { version: canary, status: 'READY' },
      ]),
    );
    expect((await gql(api, `{ experiment { id } }`, {}, admin)).data!.experiment).toBeNull();
    // the form is back, offering the canary again
    await expect(page.getByLabel('Canary version', { exact: true }).inputValue()).resolves.toBe(String(canary));
    // the view without an experiment: the outcome and the form pass the same checks
    expect(await seriousViolations(page)).toEqual([]);
    expect(await controlsTabMisses(page)).toEqual([]);
    await screenshot(page, 'experiments-ended');
  });

  it('promotes a running experiment after a confirmation: the canary becomes the active version', async () => {
    const started = await gql(api, START, { v: canary, t: 0.2 }, admin);
    expect(started.errors).toBeUndefined();
    await logIn(TEST_ADMIN_API_KEY);
    await page.goto(`${base}/console/#/experiments`);
    await expect(
      page.getByTestId('experiment-arms').locator('tr[data-role=CANARY] td.traffic').innerText(),
    ).resolves.toBe('20%');
    await page.getByRole('button', { name: `Promote v${canary}` }).click();
    const dialog = page.getByRole('dialog', { name: `Promote version ${canary}?` });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: `Promote v${canary}` }).click();
    await page.getByTestId('experiment-ended').waitFor();
    await expect(page.getByTestId('experiment-ended').innerText()).resolves.toMatch(/: promoted/);
    const active = await stack.db.query(`SELECT version FROM model_versions WHERE status = 'ACTIVE'`);
    expect(active.rows).toEqual([{ version: canary }]);
    // the previous control is READY now, offered as the next canary
    await expect(page.getByLabel('Canary version', { exact: true }).inputValue()).resolves.toBe(String(control));
  });

  it('is not offered to a key without the admin scope, which asks for no experiment', async () => {
    const key = await createKey(api, 'experiments-reader', ['serve', 'embeddings']);
    await logIn(key);
    const views = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allInnerTexts();
    expect(views).not.toContain('Experiments');
    await page.goto(`${base}/console/#/experiments`);
    await expect(page.getByRole('status').first().innerText()).resolves.toMatch(/needs a key with the admin scope/);
    expect(asked.join('\n')).not.toMatch(/experiment|onlineMetrics/);
  });
});
