import { getEnv } from '@app/config';
import { keySlot, tagOfSlot } from '@app/redis/key-slot';

/**
 * Every Redis key recoder writes, built in one place (docs/redis-layout.md describes them). `recoder`
 * is REDIS_KEY_PREFIX; braces marked <...> are literal: a Redis Cluster hash tag, so every key of one
 * user (all versions, feedback state, erasure mark) shares a slot while a version spreads over the cluster.
 *   recoder:v{n}:user:{<id>}  hash, field `vec` = float32 little-endian blob (RediSearch FLOAT32 layout),
 *                           field `stale` = 1 when the user interacted since (the API folds them in again),
 *                           field `asOf` (fold-ins only) = newest interaction time included, ms,
 *                           field `top` = the user's best unseen items, precomputed (see encodeTopItems),
 *                           field `seen` = the model item indices the vector was encoded from (uint32 LE)
 *   recoder:v{n}:item:{<id>}  hash, field `vec`,
 *                           field `similar` = the item's nearest items by cosine, precomputed for the
 *                           most popular ones (the `top` layout)
 *   recoder:v{n}:map:user   string, JSON: the users' 2-D map (PCA: mean, components, explainedVariance)
 *   recoder:v{n}:map:item   string, JSON: the same for the item vectors (unit length first)
 *   recoder:v{n}:meta       hash: dim, itemDim, users, items, trainedAt, modelHash, topItems, similarItems, layout
 *   recoder:active          the live version number, switched last
 *   recoder:canary          while an experiment runs, its CANARY version (so flagging users stale reaches its keys too)
 *   recoder:experiment-changed  pub/sub channel: an experiment started or ended, every API process reads Postgres again
 *   recoder:erased:{<tag>}:<hash>  a user erased in the last minutes (keyed hash of the id; the tag is one
 *                           that lands on the user's slot, not their id): no fold-in writes them back
 *   recoder:feedback:{<userId>}  hash, the user's feedback state, whatever the model version:
 *                           field `neg` = JSON list of the item ids their NEGATIVE events hide,
 *                           field `rules` = the rules revision it was read under, field `stale` = set when
 *                           they had an event since (then the API reads Postgres again),
 *                           field `exp` = JSON list of [item id, until ms] the exposure policy hides,
 *                           field `pol` = the exposure policy it was computed under
 *   recoder:feedback-types-changed  pub/sub channel: event types' rules changed, every process reloads them
 *   {recoder}:bull:*        BullMQ's queues (one hash tag: BullMQ's scripts touch many keys of a queue)
 */
export const keyPrefix = (): string => getEnv().REDIS_KEY_PREFIX;
export const activeKey = (): string => `${keyPrefix()}:active`;
/** Pub/sub channel: the new active version number, for every API process to load it. */
export const modelActivatedChannel = (): string => `${keyPrefix()}:model-activated`;
/** Pub/sub channel: an API key was created or revoked, every API process reloads its key cache. */
export const apiKeysChangedChannel = (): string => `${keyPrefix()}:api-keys-changed`;
/** Namespace of the API's rate-limit counters (one key per caller). */
export const rateLimitNamespace = (): string => `${keyPrefix()}:rate-limit:`;
/** BullMQ's prefix: hash-tagged as BullMQ requires on a cluster, so each queue's keys share a slot. */
export const queuePrefix = (): string => `{${keyPrefix()}}:bull`;
/** The key layout a version's meta records (`layout`): 2 is the hash-tagged one; none means 1 (docs/redis-layout.md). */
export const KEY_LAYOUT = 2;
export const LAYOUT_FIELD = 'layout';
/** The running experiment's CANARY version; absent while none runs. Readers of embeddings follow activeKey() only. */
export const canaryKey = (): string => `${keyPrefix()}:canary`;
/** Pub/sub channel: an experiment started or ended (message: the canary version); processes read Postgres again. */
export const experimentChangedChannel = (): string => `${keyPrefix()}:experiment-changed`;
export const VECTOR_FIELD = 'vec';
/** Set on a user's hash when they interacted after their embedding was computed. */
export const STALE_FIELD = 'stale';
/** On a folded-in user: the newest interaction time (ms) the vector includes. */
export const AS_OF_FIELD = 'asOf';
/** The user's top items by decoded score, seen items left out: what most requests need, precomputed. */
export const TOP_FIELD = 'top';
/**
 * The items the vector was encoded from, as model item indices: while the vector is not stale they
 * are the user's seen items, so a cached answer needs no history from Postgres.
 */
export const SEEN_FIELD = 'seen';
/** On an item's hash: its nearest items by cosine, itself left out, best first (the `top` layout). */
export const SIMILAR_FIELD = 'similar';

/**
 * Named by the erasure log's keyed hash of the id (hex), never the id itself; its hash tag is a
 * stand-in that lands on the user's slot, so the fold-in's script can check it beside their hash.
 * The tag tells only the slot, which a sixteen-thousandth of all ids share, and is never the id itself.
 */
export const erasedKey = (userId: string, idHash: Buffer): string =>
  `${keyPrefix()}:erased:{${tagOfSlot(keySlot(userTag(userId)), userId)}}:${idHash.toString('hex')}`;
/** Longer than any fold-in takes from reading a history to writing its vector (bounded by the statement timeout and the scoring queue). */
export const ERASED_HOLD_SECONDS = 600;

/** The hash tag of a user's keys: the id in braces (Redis hashes what the first `{...}` holds). */
const userTag = (userId: string): string => `{${userId}}`;
const itemTag = (itemId: string): string => `{${itemId}}`;

/** A user's feedback state: unversioned (it does not depend on the model), the id as the hash tag. */
export const feedbackKey = (userId: string): string => `${keyPrefix()}:feedback:${userTag(userId)}`;
/** Item ids the user's NEGATIVE events hide, as a JSON list. */
export const HIDDEN_FIELD = 'neg';
/** The rules revision the state was read under: another revision means read it again. */
export const RULES_FIELD = 'rules';
/** Items the exposure policy hides, as a JSON list of [item id, until (ms)]. */
export const EXPOSED_FIELD = 'exp';
/** The exposure policy `exp` was computed under (libs/feedback policySignature). */
export const POLICY_FIELD = 'pol';
/** Published after an event type's rule changes. */
export const feedbackTypesChangedChannel = (): string => `${keyPrefix()}:feedback-types-changed`;

export const versionPrefix = (version: number): string => `${keyPrefix()}:v${version}:`;
export const userKey = (version: number, userId: string): string => `${versionPrefix(version)}user:${userTag(userId)}`;
export const itemKey = (version: number, itemId: string): string => `${versionPrefix(version)}item:${itemTag(itemId)}`;
/** SCAN pattern of a version's user or item keys. */
export const kindPattern = (version: number, kind: 'user' | 'item'): string => `${versionPrefix(version)}${kind}:*`;
/** The id of a user or item key of any version; null for another key. */
export function idOfKey(key: string): string | null {
  const match = /:(?:user|item):\{(.*)\}$/s.exec(key);
  return match ? match[1] : null;
}
export const metaKey = (version: number): string => `${versionPrefix(version)}meta`;
export const mapKey = (version: number, kind: 'user' | 'item'): string => `${versionPrefix(version)}map:${kind}`;
/** The version a key of `recoder:v{n}:*` belongs to; null for any other key. */
export function versionOfKey(key: string): number | null {
  const prefix = `${keyPrefix()}:v`;
  if (!key.startsWith(prefix)) return null;
  const match = /^(\d+):/.exec(key.slice(prefix.length));
  return match ? Number(match[1]) : null;
}
/** SCAN pattern of every key of a version (the prefix holds no glob character: REDIS_KEY_PREFIX's rule). */
export const versionPattern = (version: number): string => `${versionPrefix(version)}*`;
/** SCAN pattern of every versioned key. */
export const versionsPattern = (): string => `${keyPrefix()}:v*`;

/** float32 little-endian, the byte layout RediSearch's FLOAT32 vector fields and numpy's '<f4' read. */
// typed arrays use the machine's byte order; recoder runs on little-endian machines only (x86, arm64)
if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) throw new Error('recoder needs a little-endian machine');

/** The vector's bytes as they are (float32 little-endian): a view, no copy; keep `values` unchanged until written. */
export function vectorBytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

export function decodeVector(blob: Buffer): Float32Array {
  // copy into a fresh, aligned buffer: Redis replies may start at any byte offset
  const out = new Uint8Array(blob.length);
  out.set(blob);
  return new Float32Array(out.buffer);
}

/** A user's best unseen items, best first: model item indices and their decoded scores. */
export interface TopItems {
  items: ArrayLike<number>;
  scores: ArrayLike<number>;
}

/** `top` layout: pairs of (uint32 item index, float32 score), little-endian, best first, no header. */
export function encodeTopItems(items: ArrayLike<number>, scores: ArrayLike<number>): Buffer {
  const buf = Buffer.allocUnsafe(items.length * 8);
  for (let i = 0; i < items.length; i++) {
    buf.writeUInt32LE(items[i], i * 8);
    buf.writeFloatLE(scores[i], i * 8 + 4);
  }
  return buf;
}

export function decodeTopItems(blob: Buffer): TopItems {
  const n = blob.length >> 3;
  // read in place through a DataView into plain arrays: typed arrays of this size each get an
  // off-heap backing store, and three of them cost 8x this on every cached answer
  const view = new DataView(blob.buffer, blob.byteOffset, n * 8);
  const items = new Array<number>(n);
  const scores = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    items[i] = view.getUint32(8 * i, true);
    scores[i] = view.getFloat32(8 * i + 4, true);
  }
  return { items, scores };
}

/** `seen` layout: uint32 little-endian model item indices, no header. */
export function encodeItemIndices(indices: ArrayLike<number>): Buffer {
  const buf = Buffer.allocUnsafe(indices.length * 4);
  for (let i = 0; i < indices.length; i++) buf.writeUInt32LE(indices[i], i * 4);
  return buf;
}

export function decodeItemIndices(blob: Buffer): number[] {
  const n = blob.length >> 2;
  const view = new DataView(blob.buffer, blob.byteOffset, n * 4);
  return Array.from({ length: n }, (_, i) => view.getUint32(4 * i, true));
}
