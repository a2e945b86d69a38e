import { getEnv } from '@app/config';
import { parseFlags, runCli, UsageError } from './cli';
import { runSimulation } from './simulation';

const USAGE =
  'usage: npm run simulate -- [--users 2000] [--items 1000] [--per-user 40] [--seed 1] [--rounds 5] [--limit 10] ' +
  '[--dislike 0.05] [--concurrency 8] [--url http://127.0.0.1:3000] [--setup experiment [--traffic 0.5] [--epochs N]]';

// npm run simulate -- --users 2000 --items 1000 --rounds 5 --setup experiment
// One JSON line per arm and round on stdout (and the setup's, first); the key is ADMIN_API_KEY.
runCli(async (args) => {
  const flags = parseFlags(args, [
    'users',
    'items',
    'per-user',
    'seed',
    'rounds',
    'limit',
    'dislike',
    'concurrency',
    'url',
    'setup',
    'traffic',
    'epochs',
  ]);
  if (flags.setup !== undefined && flags.setup !== 'experiment')
    throw new UsageError(`--setup takes "experiment"; ${USAGE}`);
  const env = getEnv();
  await runSimulation({
    url: flags.url ?? `http://127.0.0.1:${env.PORT}`,
    key: env.ADMIN_API_KEY,
    users: int(flags, 'users', 2000, 1),
    items: int(flags, 'items', 1000, 2),
    perUser: int(flags, 'per-user', 40, 1),
    seed: int(flags, 'seed', 1, 0),
    rounds: int(flags, 'rounds', 5, 1),
    limit: int(flags, 'limit', 10, 1),
    concurrency: int(flags, 'concurrency', 8, 1),
    dislike: fraction(flags, 'dislike', 0.05, true),
    setup: flags.setup === 'experiment',
    traffic: fraction(flags, 'traffic', 0.5, false),
    training: flags.epochs === undefined ? {} : { epochs: int(flags, 'epochs', 0, 1) },
    out: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
  });
  return undefined;
});

function int(flags: Record<string, string>, name: string, fallback: number, min: number): number {
  if (flags[name] === undefined) return fallback;
  const value = Number(flags[name]);
  if (!Number.isSafeInteger(value) || value < min)
    throw new UsageError(`--${name} must be an integer >= ${min}; ${USAGE}`);
  return value;
}

/** A share: [0, 1) with `zero` allowed, else (0, 1). */
function fraction(flags: Record<string, string>, name: string, fallback: number, zero: boolean): number {
  if (flags[name] === undefined) return fallback;
  const value = Number(flags[name]);
  if (!(value < 1 && (zero ? value >= 0 : value > 0)))
    throw new UsageError(`--${name} must be ${zero ? 'at least 0' : 'above 0'} and below 1; ${USAGE}`);
  return value;
}
