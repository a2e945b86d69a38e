import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DisposableRedisOptions {
  /**
   * Keeps its data across stop() and start() (an append-only file, fsynced every second and on a
   * graceful stop): a restart, not a wipe.
   */
  persistent?: boolean;
  /** This port rather than one of TEST_REDIS_PORTS or any free one. */
  port?: number;
}

/**
 * A throwaway redis-server for tests and benches that stop Redis: the machine's shared Redis must
 * never be stopped. Its port is the first free one of TEST_REDIS_PORTS (e.g. `6391-6395`, a range
 * a shared machine sets aside), else any free port; a restart keeps the port.
 */
export class DisposableRedis {
  private proc: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly dir: string | null,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the server is running (between start() and stop()). */
  get running(): boolean {
    return this.proc !== null;
  }

  static async start(options: DisposableRedisOptions = {}): Promise<DisposableRedis> {
    const dir = options.persistent ? await mkdtemp(join(tmpdir(), 'recoder-redis-')) : null;
    const redis = new DisposableRedis(options.port ?? (await sparePort()), dir);
    await redis.start();
    return redis;
  }

  /** Starts the server again after stop(), on the same port (and data, when persistent). */
  async start(): Promise<void> {
    if (this.proc) return;
    const persistence = this.dir
      ? ['--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'everysec']
      : ['--appendonly', 'no'];
    const proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('exit', (code) => reject(new Error(`redis-server on ${this.port} exited with ${code}`)));
      proc.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) resolve();
      });
    });
    proc.removeAllListeners('exit');
    this.proc = proc;
  }

  /**
   * Stops the server: SIGKILL by default (a crash), SIGTERM when `graceful` (a shutdown, which
   * writes a persistent server's last second to disk). A persistent server's data is kept.
   */
  async stop({ graceful = false }: { graceful?: boolean } = {}): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc) return;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit');
      proc.kill(graceful ? 'SIGTERM' : 'SIGKILL');
      await exited;
    }
    proc.stdout?.destroy();
  }

  /** Stops the server for good and deletes a persistent server's data. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

async function sparePort(): Promise<number> {
  const range = process.env.TEST_REDIS_PORTS;
  if (!range) return freePort(0);
  const [first, last] = range.split('-').map(Number);
  if (!Number.isInteger(first) || !Number.isInteger(last ?? first))
    throw new Error(`TEST_REDIS_PORTS must be a port or a range like 6391-6395, not ${range}`);
  for (let port = first; port <= (last ?? first); port++) {
    if (await freePort(port).catch(() => null)) return port;
  }
  throw new Error(`no free port in TEST_REDIS_PORTS ${range}`);
}

/** Binds `port` (0: any) and lets it go: the port, or a rejection when it is taken. */
async function freePort(port: number): Promise<number> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => Promise.reject(err instanceof Error ? err : new Error(String(err)))),
  ]);
  const bound = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return bound;
}
