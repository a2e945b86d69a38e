import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrate } from '@app/database';
import { API_NODE_FLAGS } from '../../apps/api/src/node-flags';

const ROOT = join(__dirname, '..', '..');

/** A database of the bench's own, dropped and migrated afresh, so runs are comparable and no demo data is touched. */
export async function freshDatabase(name: string): Promise<string> {
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  await migrate(url);
  return url;
}

/**
 * Starts the real API (from source, through swc) in its own process and waits until /health
 * answers; `root`: another checkout's API (with its own node_modules), to compare two builds.
 */
export async function startApi(
  env: Record<string, string>,
  root = ROOT,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = env.PORT ?? '3900';
  const proc: ChildProcess = spawn(
    process.execPath,
    [...API_NODE_FLAGS, '-r', '@swc-node/register', join(root, 'apps/api/src/main.ts')],
    {
      cwd: root,
      // the product's own scopes open, as on a trusted network (a bench measures serving, not keys, unless it says so)
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        PORT: port,
        PUBLIC_SCOPES: 'ingest,serve,embeddings,catalogue',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`api exited with ${proc.exitCode}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    url,
    pid: proc.pid!,
    stop: async () => {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Writes one JSON object per line, the format every bench prints. */
export const emit = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/** The worker (training, exports) in its own process, so a bench can SIGKILL it. */
export function startWorker(env: Record<string, string>): {
  pid: number;
  kill: () => Promise<void>;
  stop: () => Promise<void>;
} {
  const proc: ChildProcess = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(ROOT, 'apps/jobs/src/main.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    await exited;
  };
  return { pid: proc.pid!, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

/** CPU seconds a process has used so far, all its threads (Linux /proc; user + system). */
export function cpuSeconds(pid: number, thread?: number): number {
  // fields after the command name (which may hold spaces): state is field 3, utime and stime 14 and 15
  const stat = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** The CPU seconds of a process's main thread (its request thread, for the API): its task id is the pid. */
export const mainThreadCpuSeconds = (pid: number) => cpuSeconds(pid, pid);

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** A process's memory figures from /proc (kB there): VmRSS, VmHWM (its peak), RssAnon, RssFile, in MiB. */
export function memoryMb(pid: number): Record<'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile', number> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Math.round(Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024);
  return { VmRSS: field('VmRSS'), VmHWM: field('VmHWM'), RssAnon: field('RssAnon'), RssFile: field('RssFile') };
}
