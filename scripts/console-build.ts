import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..');
const SOURCE = join(ROOT, 'apps', 'console');
export const CONSOLE_BUILD = join(ROOT, 'dist', 'console');

function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newestSource(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
}

/**
 * The console as `npm run build` builds it (CI builds before testing); built here when missing or
 * older than its sources, so the browser tests never run against a stale page.
 */
export function ensureConsoleBuilt(): void {
  const index = join(CONSOLE_BUILD, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource(SOURCE)) return;
  const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const run = spawnSync(process.execPath, [vite, 'build', '--config', join(SOURCE, 'vite.config.mts')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`console build failed:\n${run.stdout}\n${run.stderr}`);
}
