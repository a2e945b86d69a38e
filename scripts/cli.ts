/**
 * The shape every recoder command line shares: progress and errors on stderr, ONE JSON line of
 * results on stdout, exit code 0 on success and 1 on failure (with the reason, never a stack,
 * unless DEBUG is set).
 */
export function runCli(main: (args: string[]) => Promise<unknown>): void {
  main(process.argv.slice(2))
    .then((result) => {
      if (result !== undefined) process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    })
    .catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: ${message}\n`);
      if (process.env.DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    });
}

export class UsageError extends Error {}

/** Minimal --flag value parser: returns the flags, throws UsageError on unknown ones. */
export function parseFlags(args: string[], known: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (!known.includes(name))
      throw new UsageError(`unknown option --${name} (known: ${known.map((k) => `--${k}`).join(' ')})`);
    const value = inline ?? (args[i + 1] !== undefined && !args[i + 1].startsWith('--') ? args[++i] : 'true');
    flags[name] = value;
  }
  return flags;
}
