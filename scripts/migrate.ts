import { getEnv } from '@app/config';
import { migrate, revertLastMigration } from '@app/database';
import { runCli } from './cli';

// npm run migrate [-- --revert]
runCli(async (args) => {
  const { DATABASE_URL } = getEnv();
  if (args.includes('--revert')) {
    await revertLastMigration(DATABASE_URL);
    return { reverted: true };
  }
  const { created, applied } = await migrate(DATABASE_URL);
  return { databaseCreated: created, applied };
});
