import { getEnv } from '@app/config';
import { importSynthetic, writeSyntheticCsv } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { parseFlags, runCli, UsageError } from './cli';

const DEFAULTS = { users: 2000, items: 1000, seed: 1, perUser: 40 };
const USAGE = 'usage: npm run seed:synthetic -- [--users N] [--items M] [--seed S] [--per-user K] [--out FILE.csv]';

// npm run seed:synthetic -- --users 2000 --items 1000 --seed 1
// Writes to the database through the bulk import path (same seed twice: nothing new), or to a csv with --out.
runCli(async (args) => {
  const flags = parseFlags(args, ['users', 'items', 'seed', 'per-user', 'out']);
  const users = positiveInt(flags, 'users', DEFAULTS.users);
  const items = positiveInt(flags, 'items', DEFAULTS.items);
  const seed = positiveInt(flags, 'seed', DEFAULTS.seed, 0);
  const perUser = positiveInt(flags, 'per-user', DEFAULTS.perUser);
  if (items < 2) throw new UsageError(`--items must be at least 2; ${USAGE}`);
  if (flags.out === 'true') throw new UsageError(`--out needs a file name; ${USAGE}`);

  const started = process.hrtime.bigint();
  const data = generateSynthetic({ users, items, seed, perUser });
  const generated = Number(process.hrtime.bigint() - started) / 1e9;

  if (flags.out) {
    const rows = await writeSyntheticCsv(data, flags.out);
    return { out: flags.out, rows, users, items, seed, seconds: round(elapsed(started)) };
  }
  const result = await importSynthetic({ url: getEnv().DATABASE_URL }, data);
  return {
    rows: result.rows,
    inserted: result.inserted,
    duplicates: result.duplicates,
    users: result.users,
    items: result.items,
    seed,
    seconds: round(elapsed(started)),
    generate_seconds: round(generated),
    rows_per_s: Math.round(result.rows / result.seconds),
  };
});

function positiveInt(flags: Record<string, string>, name: string, fallback: number, min = 1): number {
  if (flags[name] === undefined) return fallback;
  const value = Number(flags[name]);
  if (!Number.isSafeInteger(value) || value < min)
    throw new UsageError(`--${name} must be an integer >= ${min}; ${USAGE}`);
  return value;
}

function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
