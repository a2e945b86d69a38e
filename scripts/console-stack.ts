/**
 * A whole recoder for driving the console in a browser outside the tests (the map bench, the
 * README screenshots): a database and Redis db of its own, synthetic data with item attributes,
 * the API and worker processes, versions trained through the API, and Chromium logged in.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Browser, chromium, Page } from 'playwright-core';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic, syntheticItemAttributes, syntheticItemId } from '@app/synthetic';
import { freshDatabase, startApi, startWorker } from '../bench/lib/api-process';
import { ensureConsoleBuilt } from './console-build';

export interface ConsoleStackOptions {
  /** Dropped and created afresh. */
  database: string;
  /** Emptied first: give the stack an index of its own. */
  redisDb: number;
  port: number;
  jobsPort: number;
  users: number;
  items: number;
  perUser: number;
  seed: number;
  /** One retrain per entry, in order, each forced live. */
  trainings: Array<Record<string, unknown>>;
  /** Environment of both processes beyond the stack's own. */
  env?: Record<string, string>;
  /** Keep the database and Redis of an earlier run that got as far as a live version (no import, no training). */
  reuse?: boolean;
}

export interface ConsoleStack {
  url: string;
  adminKey: string;
  graphql: <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;
  /** Chromium (Debian's, or CHROMIUM_PATH) with a page logged in to the console. */
  openConsole: (viewport: { width: number; height: number }) => Promise<{ browser: Browser; page: Page }>;
  stop: () => Promise<void>;
}

const say = (text: string) => process.stderr.write(`[console-stack] ${text}\n`);

export async function startConsoleStack(o: ConsoleStackOptions): Promise<ConsoleStack> {
  ensureConsoleBuilt();
  if (o.redisDb === 0) throw new Error('give the stack a Redis db index of its own (not 0): it is emptied');
  const redisUrl = `redis://127.0.0.1:6379/${o.redisDb}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${o.database}`;
  const reused = o.reuse === true && (await hasLiveVersion(databaseUrl));
  const data = generateSynthetic({ users: o.users, items: o.items, seed: o.seed, perUser: o.perUser });
  if (reused) say(`reusing ${o.database} and Redis db ${o.redisDb}`);
  else {
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();
    await freshDatabase(o.database);
    say(`importing ${data.user.length} interactions of ${o.users} users and ${o.items} items`);
    await importSynthetic({ url: databaseUrl }, data);
  }

  const adminKey = randomBytes(16).toString('hex');
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ADMIN_API_KEY: adminKey,
    PUBLIC_SCOPES: '',
    JOBS_PORT: String(o.jobsPort),
    ...o.env,
  };
  const api = await startApi({ ...env, PORT: String(o.port) });
  const worker = startWorker(env);
  const stop = async () => {
    await worker.stop();
    await api.stop();
  };
  try {
    const graphql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
      const res = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: Array<{ message: string }> };
      if (!body.data) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
      return body.data;
    };
    // the catalogue's attributes, through the API as a product would send them
    const UPSERT = `mutation U($i: [ItemInput!]!) { upsertItems(input: $i) { id } }`;
    for (let start = 0; start < (reused ? 0 : o.items); start += 10_000) {
      const input = Array.from({ length: Math.min(10_000, o.items - start) }, (_, k) => ({
        id: syntheticItemId(start + k),
        attributes: syntheticItemAttributes(data, start + k),
      }));
      await graphql(UPSERT, { i: input });
    }
    if (!reused) for (const config of o.trainings) await train(graphql, config);
    return {
      url: api.url,
      adminKey,
      graphql,
      openConsole: async (viewport) => {
        const browser = await chromium.launch({
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          // root cannot use Chromium's sandbox; the page is this repo's own
          args: ['--no-sandbox', '--disable-dev-shm-usage'],
        });
        const page = await browser.newPage({ viewport });
        await page.goto(`${api.url}/console/`);
        await page.getByLabel('API key').fill(adminKey);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.getByRole('navigation', { name: 'Views' }).waitFor();
        return { browser, page };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function hasLiveVersion(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query(`SELECT 1 FROM model_versions WHERE status = 'ACTIVE'`);
    return rows.length > 0;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function train(graphql: ConsoleStack['graphql'], config: Record<string, unknown>): Promise<void> {
  const { retrain } = await graphql<{ retrain: { id: string } }>(
    `
      mutation R($c: TrainingConfigInput) {
        retrain(config: $c, force: true) {
          id
        }
      }
    `,
    { c: config },
  );
  say(`training job ${retrain.id}: ${JSON.stringify(config)}`);
  for (;;) {
    const { trainingJob: job } = await graphql<{
      trainingJob: { state: string; error: string | null; modelVersion: { version: number } | null };
    }>(
      `
        query J($id: ID!) {
          trainingJob(id: $id) {
            state
            error
            modelVersion {
              version
            }
          }
        }
      `,
      { id: retrain.id },
    );
    if (job.state === 'COMPLETED') {
      say(`version ${job.modelVersion?.version} trained`);
      return;
    }
    if (job.state === 'FAILED') throw new Error(`training failed: ${job.error}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
