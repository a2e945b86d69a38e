import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How to start one of this library's worker threads: `<name>.js` from the build, or `<name>.ts`
 * from TypeScript sources through the swc hook, added when the process has not got it (under
 * jest, whose own transform does not reach worker threads).
 */
export function workerEntry(dir: string, name: string, callerFile: string): { file: string; execArgv?: string[] } {
  const ts = join(dir, `${name}.ts`);
  if (!(callerFile.endsWith('.ts') && existsSync(ts))) return { file: join(dir, `${name}.js`) };
  const hooked = process.execArgv.some((a) => a.includes('@swc-node/register'));
  return { file: ts, execArgv: hooked ? undefined : [...process.execArgv, '-r', '@swc-node/register'] };
}
