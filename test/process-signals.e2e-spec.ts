import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A port nothing listens on at the moment. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The app's main.ts in its own process, as in production (the test env: this run's database and Redis db). */
function start(app: 'api' | 'jobs', env: Record<string, string>): { proc: ChildProcess; stderr: () => string } {
  const proc = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '..', `apps/${app}/src/main.ts`)], {
    env: { ...process.env, TRAIN_THREADS: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { proc, stderr: () => stderr };
}

async function healthy(port: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode} before serving`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out waiting for /health');
}

describe.each([
  ['api', 'PORT'],
  ['jobs', 'JOBS_PORT'],
] as const)('the %s process (e2e)', (app, portVariable) => {
  const started: ChildProcess[] = [];
  afterAll(() => {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('serves until %s, then closes and exits 0', async (signal) => {
    const port = await freePort();
    const { proc } = start(app, { [portVariable]: String(port) });
    started.push(proc);
    await healthy(port, proc);
    const exited = once(proc, 'exit');
    proc.kill(signal);
    const [code, killedBy] = (await exited) as [number | null, NodeJS.Signals | null];
    expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
    // closed: nothing answers on its port any more
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });

  it('names the setting that stopped it from starting, and exits 1', async () => {
    const { proc, stderr } = start(app, { [portVariable]: 'not-a-port' });
    started.push(proc);
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(1);
    // one line naming the setting, not a stack trace
    expect(stderr().trim().split('\n')).toEqual([
      expect.stringMatching(`^recoder ${app} failed to start: Invalid environment: ${portVariable} \\(`),
    ]);
  });
});
