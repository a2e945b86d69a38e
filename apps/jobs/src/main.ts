import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { getEnv } from '@app/config';
import { createJobsApp } from './create-jobs-app';

async function main(): Promise<void> {
  const app = await createJobsApp();
  // SIGTERM/SIGINT: run the shutdown hooks (workers hand back or finish their job, connections close), exit 0
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
  const { JOBS_PORT } = getEnv();
  await app.listen(JOBS_PORT, '0.0.0.0');
  new Logger('jobs').log(`worker up; health and metrics on :${JOBS_PORT}`);
}

main().catch((err: Error) => {
  console.error(`recoder jobs failed to start: ${err.message}`);
  process.exit(1);
});
