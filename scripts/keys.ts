import { ApiKeyAdmin, ApiKeyInputError, parseScopes } from '@app/api-keys';
import { getEnv } from '@app/config';
import { ApiKeyNameTakenError, ApiKeyRepository, createDataSource } from '@app/database';
import { createRedisClient, redisOptions, redisTarget } from '@app/redis';
import { parseFlags, runCli, UsageError } from './cli';

const USAGE = 'usage: npm run keys -- create --name NAME --scopes serve,ingest | list | revoke NAME';

// npm run keys -- create --name web --scopes serve,ingest   (prints the key once)
// npm run keys -- list
// npm run keys -- revoke web
runCli(async ([command, ...rest]) => {
  if (!command || !['create', 'list', 'revoke'].includes(command)) throw new UsageError(USAGE);
  const create = command === 'create' ? parseFlags(rest, ['name', 'scopes']) : null;
  if (create && (!create.name || create.name === 'true' || !create.scopes || create.scopes === 'true'))
    throw new UsageError(`create needs --name and --scopes (${USAGE})`);
  const scopes = create ? parseScopes(create.scopes) : [];
  if (command === 'revoke' && rest.length !== 1) throw new UsageError(`revoke takes one key name (${USAGE})`);
  if (command === 'list' && rest.length) throw new UsageError(`list takes no arguments (${USAGE})`);

  const env = getEnv();
  const db = createDataSource(env.DATABASE_URL);
  await db.initialize();
  // no retries: a Redis that is down only delays the change until each API's cache TTL
  const redis = createRedisClient(redisTarget(env), { ...redisOptions(), maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  const keys = new ApiKeyAdmin(new ApiKeyRepository(db), redis);
  try {
    if (create) {
      const { key, record } = await keys.create(create.name, scopes);
      process.stderr.write('The key is shown this once: store it now.\n');
      return { key, name: record.name, scopes: record.scopes, createdAt: record.createdAt };
    }
    if (command === 'revoke') return { revoked: (await keys.revoke(rest[0])).name };
    return { keys: await keys.list() };
  } catch (err) {
    if (err instanceof ApiKeyInputError || err instanceof ApiKeyNameTakenError) throw new UsageError(err.message);
    throw err;
  } finally {
    redis.disconnect();
    await db.destroy();
  }
});
