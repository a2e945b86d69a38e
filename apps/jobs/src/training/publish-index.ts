import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelIndexRepository } from '@app/database';
import { DaeModel, ItemIndex } from '@app/model';

/** A large catalogue's item index while its version publishes: on disk for the scoring threads to view. */
export interface PublishIndex {
  index: ItemIndex;
  /** A temporary directory holding its files: removed by `removePublishIndex` once publishing is done. */
  dir: string;
}

/** Whether a catalogue of this many items gets an index (ANN_MIN_ITEMS; 0: never). */
export const wantsIndex = (items: number, minItems: number): boolean => minItems > 0 && items >= minItems;

/**
 * Builds the model's item index, saves its files in a temporary directory and stores them with
 * the version (one transaction: a retry finds all of them or none). The version is not READY yet:
 * an attempt that fails after this clears the index with the weights.
 */
export async function buildPublishIndex(
  indexes: ModelIndexRepository,
  version: number,
  model: DaeModel,
  threads: number,
  onProgress: (done: number, of: number) => void,
): Promise<PublishIndex> {
  const index = await ItemIndex.build(model, { threads }, onProgress);
  const dir = await mkdtemp(join(tmpdir(), `recoder-index-v${version}-`));
  try {
    await indexes.save(version, dir, index.save(dir));
    return { index, dir };
  } catch (err) {
    await removePublishIndex({ index, dir });
    throw err;
  }
}

/** Its files are in Postgres: the local copy goes (threads that mapped them keep their pages until they close). */
export async function removePublishIndex(built: PublishIndex): Promise<void> {
  await rm(built.dir, { recursive: true, force: true });
}
