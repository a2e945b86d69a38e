/// <reference lib="dom" />
// page.evaluate callbacks run in the browser: their code is typed against the DOM
/**
 * npm run screenshots [-- --redis-db 12]: the console's Models and Map views as the README shows
 * them (docs/img/models.png, docs/img/map.png), taken in headless Chromium from a recoder of its
 * own (database recoder_screenshots, the given Redis db, emptied) on the demo's synthetic data
 * (2,000 users, 1,000 items, seed 1) with two trained versions.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags, runCli } from './cli';
import { startConsoleStack } from './console-stack';

const OUT = join(__dirname, '..', 'docs', 'img');
const VIEWPORT = { width: 1280, height: 1000 };

runCli(async (args) => {
  const flags = parseFlags(args, ['redis-db', 'reuse']);
  const stack = await startConsoleStack({
    database: 'recoder_screenshots',
    redisDb: Number(flags['redis-db'] ?? 12),
    port: 3930,
    jobsPort: 3931,
    users: 2000,
    items: 1000,
    perUser: 40,
    seed: 1,
    // two versions, so the chart across versions has a line
    trainings: [
      { epochs: 10, embeddingDim: 32, hidden: [100], seed: 1 },
      { epochs: 60, embeddingDim: 64, hidden: [200], seed: 1 },
    ],
    reuse: flags.reuse === 'true',
  });
  try {
    const { browser, page } = await stack.openConsole(VIEWPORT);
    mkdirSync(OUT, { recursive: true });

    await page.goto(`${stack.url}/console/#/models`);
    await page.getByTestId('model-details').getByRole('img').first().waitFor();
    await page.screenshot({ path: join(OUT, 'models.png') });

    await page.goto(`${stack.url}/console/#/map`);
    await page.waitForFunction(() => {
      const el = document.querySelector('canvas');
      return !!el?.dataset.total && el.dataset.points === el.dataset.total;
    });
    await page.getByLabel('Colour by').selectOption('cluster');
    await page.getByLabel('Item id').fill('i1');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByTestId('similar-items').waitFor();
    await page.getByRole('button', { name: 'Fit' }).click();
    // the selection's panel below the map, the map itself in view
    await page.evaluate(() => window.scrollTo(0, 60));
    await page.screenshot({ path: join(OUT, 'map.png') });
    await browser.close();
    return { written: ['docs/img/models.png', 'docs/img/map.png'], console: `${stack.url}/console/` };
  } finally {
    await stack.stop();
  }
});
