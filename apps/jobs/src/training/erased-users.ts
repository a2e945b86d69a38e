import { AnomalyRepository, ErasureRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { CsrMatrix, selectRows } from '@app/model';

/** The users a version publishes: its rows of the interaction matrix and their ids, in the same order. */
export interface PublishedUsers {
  matrix: CsrMatrix;
  userIds: readonly string[];
}

/**
 * A training's users less those erased since it read its data (`snapshot`): their hashes, anomaly
 * scores and place in the user map are never written. Their interactions still shaped the
 * weights (an aggregate no user's copy can be read back from); the next training has none of them.
 */
export async function leaveOutErased(
  erasures: ErasureRepository,
  snapshot: string,
  users: PublishedUsers,
): Promise<PublishedUsers> {
  const erased = await erasures.erasedSince(snapshot, users.userIds);
  if (erased.size === 0) return users;
  const kept = users.userIds.flatMap((id, row) => (erased.has(id) ? [] : [row]));
  return { matrix: selectRows(users.matrix, kept), userIds: kept.map((row) => users.userIds[row]) };
}

/**
 * After publishing: removes again any published user erased while the version was being written
 * (the erasure cleared Redis before this version held them). Erased later, deleteUser reaches
 * this version's keys itself. Returns how many were removed.
 */
export async function unpublishErased(
  deps: { erasures: ErasureRepository; store: EmbeddingStoreRepository; anomalies: AnomalyRepository },
  version: number,
  snapshot: string,
  userIds: readonly string[],
): Promise<number> {
  const erased = [...(await deps.erasures.erasedSince(snapshot, userIds))];
  for (const id of erased) await deps.store.deleteUser([version], id);
  if (erased.length) await deps.anomalies.deleteUsers(version, erased);
  return erased.length;
}
