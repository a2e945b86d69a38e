import { createRng } from '@app/random';

/**
 * A deliberately worse control for online experiments: each user's items moved by a random offset
 * of the user's own through the catalogue (item + offset mod items). Every user keeps as many items,
 * all distinct, and every item keeps appearing, but what a user chose says nothing of what they
 * like, and popularity is spread out: a model trained on it should lose to one trained on the truth.
 */
export function shuffleItemsPerUser(
  user: Int32Array,
  item: Int32Array,
  users: number,
  items: number,
  seed: number,
): Int32Array {
  const rng = createRng(seed);
  const offsets = Int32Array.from({ length: users }, () => rng.int(items));
  return Int32Array.from(item, (i, k) => (i + offsets[user[k]]) % items);
}
