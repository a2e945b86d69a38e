import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version of a package as installed in this tree's node_modules. */
export function installedVersion(pkg: string): string {
  return (
    JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'node_modules', pkg, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

/**
 * A test body that checks one private internal of a dependency that `file` relies on: when the
 * check fails (an upgrade moved or changed the internal), the test fails with a message that names
 * the internal, the file and the installed version, instead of an assertion detail alone.
 */
export function reliesOn(
  pkg: string,
  file: string,
  internal: string,
  check: () => void | Promise<void>,
): () => Promise<void> {
  return async () => {
    try {
      await check();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new Error(
        `${file} relies on ${pkg} ${installedVersion(pkg)}: ${internal}. That no longer holds, so adapt ${file} before upgrading:\n${detail}`,
      );
    }
  };
}
