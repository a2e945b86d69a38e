import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { TEST_ADMIN_API_KEY, TEST_DATABASE_URL, TEST_REDIS_URL } from '../test-env';

const ROOT = join(__dirname, '..', '..');

/** An app as its own process, as in production, so a test can SIGKILL it or run several. */
export interface AppProcess {
  proc: ChildProcess;
  url: string;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

function spawnApp(main: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, main)], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function appProcess(proc: ChildProcess, port: number): AppProcess {
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** The worker (training, exports); TRAIN_THREADS 1 as in the other tests. */
export function startWorker(port: number, env: Record<string, string> = {}): AppProcess {
  return appProcess(
    spawnApp('apps/jobs/src/main.ts', { JOBS_PORT: String(port), TRAIN_THREADS: '1', POPULARITY_CRON: 'off', ...env }),
    port,
  );
}

/** An API process, resolved once /health answers. NODE_ENV production: it does not rewrite schema.gql. */
export async function startApiProcess(port: number, env: Record<string, string> = {}): Promise<AppProcess> {
  const proc = spawnApp('apps/api/src/main.ts', {
    NODE_ENV: 'production',
    PORT: String(port),
    ADMIN_API_KEY: TEST_ADMIN_API_KEY,
    SCORING_THREADS: '1',
    ...env,
  });
  const app = appProcess(proc, port);
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`the API process exited with ${proc.exitCode}`);
    if (
      await fetch(`${app.url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return app;
    await new Promise((r) => setTimeout(r, 200));
  }
  await app.kill();
  throw new Error('the API process did not answer /health within 60 s');
}

/** One GraphQL request over HTTP to a process. */
export async function gqlAt(
  app: AppProcess,
  query: string,
  variables: object = {},
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}
