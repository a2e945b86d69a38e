import { INestApplication, Logger } from '@nestjs/common';
import { EnvVars, getEnv } from './env';

/** A process that serves one Nest application: the API, or the worker's health and metrics port. */
export interface AppProcess {
  /** For the log lines: "api", "jobs". */
  name: string;
  create: () => Promise<INestApplication>;
  port: (env: EnvVars) => number;
  /** The line logged once it listens. */
  ready: (port: number) => string;
}

/**
 * A process's main: builds the app and listens on every interface. SIGTERM or SIGINT runs the
 * shutdown hooks (workers hand back or finish their job, connections close) and exits 0; a
 * failure to start prints one line and exits 1.
 */
export function runApp({ name, create, port, ready }: AppProcess): void {
  const main = async () => {
    const app = await create();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(
        signal,
        () =>
          void app.close().then(
            () => process.exit(0),
            () => process.exit(1),
          ),
      );
    }
    const listening = port(getEnv());
    await app.listen(listening, '0.0.0.0');
    new Logger(name).log(ready(listening));
  };
  main().catch((err: Error) => {
    console.error(`recoder ${name} failed to start: ${err.message}`);
    process.exit(1);
  });
}
