import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { getEnv } from '@app/config';
import { createApiApp } from './create-api-app';

async function main(): Promise<void> {
  const app = await createApiApp();
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
  const { PORT } = getEnv();
  await app.listen(PORT, '0.0.0.0');
  new Logger('api').log(`listening on :${PORT} (GraphQL at /graphql, health at /health)`);
}

main().catch((err: Error) => {
  console.error(`recoder api failed to start: ${err.message}`);
  process.exit(1);
});
