import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { getEnv } from '@app/config';
import { createApiApp } from './create-api-app';

async function main(): Promise<void> {
  const app = await createApiApp();
  const { PORT } = getEnv();
  await app.listen(PORT, '0.0.0.0');
  new Logger('api').log(`listening on :${PORT} (GraphQL at /graphql, health at /health)`);
}

main().catch((err: Error) => {
  console.error(`recoder api failed to start: ${err.message}`);
  process.exit(1);
});
