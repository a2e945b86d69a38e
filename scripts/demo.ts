/**
 * npm run demo: the whole service on this machine, from nothing: migrate, seed synthetic data
 * (once), start the API (:PORT) and the worker (:JOBS_PORT) from the build, show a first query,
 * and keep running until Ctrl-C, which stops both.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { getEnv } from '@app/config';
import { migrate } from '@app/database';
import { Client } from 'pg';

const ROOT = join(__dirname, '..');
const DEMO_DATA = ['--users', '2000', '--items', '1000', '--seed', '1'];

const say = (text: string) => process.stderr.write(`[demo] ${text}\n`);

async function main(): Promise<void> {
  const env = getEnv();
  say(`migrating ${redact(env.DATABASE_URL)}`);
  await migrate(env.DATABASE_URL);

  if ((await interactionCount(env.DATABASE_URL)) === 0) {
    say(`seeding synthetic interactions (${DEMO_DATA.join(' ')})`);
    const seed = spawnSync(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'scripts/seed-synthetic.ts'), ...DEMO_DATA], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (seed.status !== 0) throw new Error('seeding failed (see above)');
  } else {
    say('the store already has interactions: not seeding again');
  }

  const children = [start('api', 'dist/apps/api/src/main.js'), start('jobs', 'dist/apps/jobs/src/main.js')];
  const stop = () => {
    say('stopping');
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  await waitHealthy(`http://127.0.0.1:${env.PORT}/health`, 'api');
  await waitHealthy(`http://127.0.0.1:${env.JOBS_PORT}/health`, 'jobs');
  const stats = await fetch(`http://127.0.0.1:${env.PORT}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ stats { users items interactions newestInteractionAt } }' }),
  }).then((r) => r.json());
  say(`GraphQL answers on http://127.0.0.1:${env.PORT}/graphql (GraphiQL at /graphiql):`);
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  say(`worker health and metrics on http://127.0.0.1:${env.JOBS_PORT}/health and /metrics; Ctrl-C stops both`);

  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
}

function start(name: string, entry: string): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, entry)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGTERM') say(`${name} exited (${code ?? signal})`);
  });
  return child;
}

async function waitHealthy(url: string, name: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} did not become healthy at ${url}`);
}

async function interactionCount(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT count(*)::int AS n FROM interactions')).rows[0].n;
  } finally {
    await client.end();
  }
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');

main().catch((err: Error) => {
  say(`error: ${err.message}`);
  process.exit(1);
});
