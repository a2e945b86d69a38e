import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvVars } from '@app/config';
import { ModelIndexRepository, StoredIndexFile } from '@app/database';

/** Written last into a copy: which stored index it is, so a directory left from another database is not taken for it. */
const MARKER = 'stored-index.json';

/**
 * Local copies of versions' item index files (ANN_CACHE_DIR/v{n}), which the scoring threads
 * memory-map. A copy is written under a temporary name and renamed whole, so a half-copied
 * directory is never viewed; processes of one machine sharing the directory share its pages.
 */
@Injectable()
export class ItemIndexCache {
  constructor(
    private readonly indexes: ModelIndexRepository,
    private readonly env: EnvVars,
  ) {}

  /**
   * The directory of the version's index, copied from Postgres unless a complete copy of the same
   * stored files is here already; null when the version has no index. `identity` tells stored
   * indexes of equal version numbers apart (the version's creation time).
   */
  async dirOf(version: number, identity: string): Promise<string | null> {
    const stored = await this.indexes.files(version);
    const dir = this.dirFor(version);
    if (stored.length === 0) {
      await rm(dir, { recursive: true, force: true });
      return null;
    }
    const marker = JSON.stringify({ version, identity, files: stored });
    if (await this.holds(dir, marker, stored)) return dir;

    await mkdir(this.env.ANN_CACHE_DIR, { recursive: true });
    const partial = join(this.env.ANN_CACHE_DIR, `.v${version}-${randomUUID()}`);
    await mkdir(partial);
    try {
      const copied = await this.indexes.copyTo(version, partial);
      if (!copied) throw new Error(`the item index of version ${version} was deleted while it was copied`);
      await writeFile(join(partial, MARKER), JSON.stringify({ version, identity, files: copied }));
      // a stale or foreign copy goes; threads that mapped its files keep their pages
      await rm(dir, { recursive: true, force: true });
      await rename(partial, dir).catch(async (err) => {
        // another process on this machine renamed its copy first: the same files, use them
        if (!(await this.holds(dir, marker, stored))) throw err;
      });
      return dir;
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }

  /** The version's local copy goes: no model of this process serves it any more. */
  async remove(version: number): Promise<void> {
    await rm(this.dirFor(version), { recursive: true, force: true });
  }

  /**
   * Removes the copies of versions not in `servable` (retired or deleted while no process here
   * served them): copies outlive a restart, so the next start need not copy gigabytes again.
   */
  async prune(servable: readonly number[]): Promise<number[]> {
    const names = await readdir(this.env.ANN_CACHE_DIR).catch(() => [] as string[]);
    const stale = names
      .map((name) => /^v(\d+)$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null && !servable.includes(Number(m[1])))
      .map((m) => Number(m[1]));
    for (const version of stale) await this.remove(version);
    return stale;
  }

  private dirFor(version: number): string {
    return join(this.env.ANN_CACHE_DIR, `v${version}`);
  }

  /** Whether `dir` is a complete copy (its marker, written last, and each file's size) of these stored files. */
  private async holds(dir: string, marker: string, stored: readonly StoredIndexFile[]): Promise<boolean> {
    try {
      if ((await readFile(join(dir, MARKER), 'utf8')) !== marker) return false;
      for (const { file, bytes } of stored) if ((await stat(join(dir, file))).size !== bytes) return false;
      return true;
    } catch {
      return false;
    }
  }
}
