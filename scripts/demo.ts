/**
 * npm run demo: the whole service on this machine, from nothing: migrate, seed synthetic data
 * (once), start the API (:PORT) and the worker (:JOBS_PORT) from the build, show a first query,
 * and keep running until Ctrl-C, which stops both.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { getEnv } from '@app/config';
import { migrate } from '@app/database';
import { generateSynthetic, syntheticItemAttributes, syntheticItemId } from '@app/synthetic';
import { Client } from 'pg';
import { API_NODE_FLAGS } from '../apps/api/src/node-flags';

const ROOT = join(__dirname, '..');
const DEMO = { users: 2000, items: 1000, seed: 1 };
const DEMO_DATA = ['--users', String(DEMO.users), '--items', String(DEMO.items), '--seed', String(DEMO.seed)];

let stopping = false;
const say = (text: string) => process.stderr.write(`[demo] ${text}\n`);

async function main(): Promise<void> {
  const env = getEnv();
  say(`migrating ${redact(env.DATABASE_URL)}`);
  await migrate(env.DATABASE_URL);

  const seeding = (await interactionCount(env.DATABASE_URL)) === 0;
  if (seeding) {
    say(`seeding synthetic interactions (${DEMO_DATA.join(' ')})`);
    const seed = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', join(ROOT, 'scripts/seed-synthetic.ts'), ...DEMO_DATA],
      {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    if (seed.status !== 0) throw new Error('seeding failed (see above)');
  } else {
    say('the store already has interactions: not seeding again');
  }

  // admin operations need a key: make one for this demo when none is configured
  const adminKey = env.ADMIN_API_KEY ?? randomBytes(12).toString('hex');
  if (!env.ADMIN_API_KEY) say(`ADMIN_API_KEY is not set: using ${adminKey} for this demo`);
  // GraphiQL on for the demo (off unless GRAPHIQL=true); its queries still need the key
  const childEnv = { GRAPHIQL: 'true', ...process.env, ADMIN_API_KEY: adminKey };
  const children = [
    start('api', 'dist/apps/api/src/main.js', childEnv, API_NODE_FLAGS),
    start('jobs', 'dist/apps/jobs/src/main.js', childEnv),
  ];
  const stop = () => {
    stopping = true;
    say('stopping');
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  await waitHealthy(`http://127.0.0.1:${env.PORT}/health`, 'api');
  await waitHealthy(`http://127.0.0.1:${env.JOBS_PORT}/health`, 'jobs');
  const graphql = graphqlClient(`http://127.0.0.1:${env.PORT}/graphql`, adminKey);
  const stats = await graphql('{ stats { users items interactions newestInteractionAt } }');
  say(`GraphQL answers on http://127.0.0.1:${env.PORT}/graphql (GraphiQL at /graphiql):`);
  process.stdout.write(`${JSON.stringify(stats)}\n`);

  // only items this run created: a store with data of its own keeps its catalogue as it is
  if (seeding) await describeItems(graphql);
  await trainAndReport(graphql);
  await showRecommendations(graphql, await someUser(env.DATABASE_URL));
  say(`worker health and metrics on http://127.0.0.1:${env.JOBS_PORT}/health and /metrics; Ctrl-C stops both`);
  say(
    `admin console: http://127.0.0.1:${env.PORT}/console/ (log in with ${env.ADMIN_API_KEY ? 'ADMIN_API_KEY' : 'the key above'})`,
  );
  process.stdout.write(`${JSON.stringify({ console: `http://127.0.0.1:${env.PORT}/console/` })}\n`);

  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
}

type GraphqlReply<T> = { data?: T | null; errors?: Array<{ message: string }> };
/** T: the data the query asks for, as the schema (schema.gql) types it. */
type Graphql = <T>(query: string, variables?: Record<string, unknown>) => Promise<GraphqlReply<T>>;

interface TrainingJobReply {
  state: string;
  error: string | null;
  progress: {
    phase: string;
    epoch: number | null;
    epochs: number | null;
    loss: number | null;
    ndcg: number | null;
  } | null;
}

function graphqlClient(url: string, adminKey: string): Graphql {
  return <T>(query: string, variables: Record<string, unknown> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ query, variables }),
    }).then((r) => r.json() as Promise<GraphqlReply<T>>);
}

/**
 * The catalogue's attributes, as a product would send them (upsertItems): each synthetic item's
 * taste cluster, which the console's map can colour items by. Unchanged attributes change nothing.
 */
async function describeItems(graphql: Graphql): Promise<void> {
  const data = generateSynthetic(DEMO);
  const input = Array.from({ length: DEMO.items }, (_, i) => ({
    id: syntheticItemId(i),
    attributes: syntheticItemAttributes(data, i),
  }));
  const res = await graphql('mutation U($i: [ItemInput!]!) { upsertItems(input: $i) { id } }', { i: input });
  if (res.errors) throw new Error(`upsertItems failed: ${JSON.stringify(res.errors)}`);
}

/** Retrains through the queue, as an admin would, showing progress; prints the active model. */
async function trainAndReport(graphql: Graphql): Promise<void> {
  const started = await graphql<{ retrain: { id: string } }>('mutation { retrain { id state } }');
  if (!started.data) throw new Error(`retrain failed: ${JSON.stringify(started.errors)}`);
  const id = started.data.retrain.id;
  say(`training job ${id} enqueued`);
  let last = '';
  for (;;) {
    const { data, errors } = await graphql<{ trainingJob: TrainingJobReply }>(
      'query J($id: ID!) { trainingJob(id: $id) { state error progress { phase epoch epochs loss ndcg } } }',
      { id },
    );
    if (!data) throw new Error(`trainingJob failed: ${JSON.stringify(errors)}`);
    const job = data.trainingJob;
    const p = job.progress;
    const line = p
      ? `${job.state} ${p.phase}${p.epoch ? ` epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(3)}${p.ndcg != null ? ` ndcg@100 ${p.ndcg.toFixed(4)}` : ''}` : ''}`
      : job.state;
    if (line !== last) say(line);
    last = line;
    if (job.state === 'COMPLETED') break;
    if (job.state === 'FAILED') throw new Error(`training failed: ${job.error}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const model = await graphql<{ model: unknown }>(
    '{ model { version status users items interactions backend metrics { ndcg100 recall20 recall50 heldOutUsers popularity { ndcg100 recall20 recall50 } } timings } }',
  );
  say('active model (metrics on held-out users, left out of training and early stopping; popularity for comparison):');
  process.stdout.write(`${JSON.stringify(model.data?.model)}\n`);
}

/** What product code would ask: recommendations for one user, and what it was based on. */
async function showRecommendations(graphql: Graphql, userId: string): Promise<void> {
  // the API loads a new model on the switch message; give it a moment
  for (let i = 0; i < 50; i++) {
    const res = await graphql<{ recommendations: { source: string } }>(
      'query R($u: ID!) { recommendations(userId: $u, limit: 5) { source modelVersion items { score item { id } } } }',
      { u: userId },
    );
    if (res.data?.recommendations.source !== 'POPULARITY' || i === 49) {
      say(`recommendations for user ${userId}:`);
      process.stdout.write(`${JSON.stringify(res.data)}\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function someUser(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ external_id: string }>('SELECT external_id FROM users ORDER BY id LIMIT 1')).rows[0]
      .external_id;
  } finally {
    await client.end();
  }
}

function start(name: string, entry: string, env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): ChildProcess {
  // the apps' logs go to stderr: stdout carries only the demo's own results
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, entry)], { cwd: ROOT, env, stdio: ['ignore', 2, 2] });
  child.once('exit', (code, signal) => {
    if (!stopping) say(`${name} exited (${code ?? signal})`);
  });
  return child;
}

async function waitHealthy(url: string, name: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} did not become healthy at ${url}`);
}

async function interactionCount(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM interactions')).rows[0].n;
  } finally {
    await client.end();
  }
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');

main().catch((err: Error) => {
  say(`error: ${err.message}`);
  process.exit(1);
});
