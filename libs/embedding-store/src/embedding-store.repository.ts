import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { EmbeddingMap } from '@app/model';
import { pipelineByKey, REDIS, RedisClient, scanPrimaries } from '@app/redis';
import {
  activeKey,
  canaryKey,
  experimentChangedChannel,
  decodeVector,
  ERASED_HOLD_SECONDS,
  erasedKey,
  vectorBytes,
  itemKey,
  mapKey,
  metaKey,
  modelActivatedChannel,
  userKey,
  AS_OF_FIELD,
  decodeItemIndices,
  decodeTopItems,
  encodeItemIndices,
  encodeTopItems,
  SEEN_FIELD,
  SIMILAR_FIELD,
  STALE_FIELD,
  TOP_FIELD,
  TopItems,
  VECTOR_FIELD,
  versionOfKey,
  versionPattern,
  versionPrefix,
  versionsPattern,
  kindPattern,
  idOfKey,
  KEY_LAYOUT,
  LAYOUT_FIELD,
  feedbackKey,
  HIDDEN_FIELD,
  RULES_FIELD,
  EXPOSED_FIELD,
  POLICY_FIELD,
} from './embedding-keys';

export interface VersionMeta {
  dim: number;
  itemDim: number;
  users: number;
  items: number;
  trainedAt: string;
  modelHash: string;
  /**
   * How deep each user's `top` was ranked: a shorter list holds every unseen item. Null for a
   * version published before the field existed (then a short list proves nothing).
   */
  topItems: number | null;
  /**
   * How deep each precomputed `similar` list was ranked (a shorter one holds every other item);
   * null when the version has none.
   */
  similarItems: number | null;
}

/** Vectors of one kind, row-major, with their ids in the same order. */
export interface VectorBlock {
  ids: readonly string[];
  dim: number;
  vectors: Float32Array;
  /** Users only: each user's precomputed top items, in the order of `ids`. */
  tops?: readonly TopItems[];
  /** Users only: the model item indices each vector was encoded from, in the order of `ids`. */
  seen?: readonly ArrayLike<number>[];
  /** Items only: each item's nearest items, in the order of `ids`; undefined where not precomputed. */
  similar?: readonly (TopItems | undefined)[];
}

/** A user's cached embedding as the API reads it. */
export interface CachedUser {
  readonly vector: Float32Array;
  /** An interaction was recorded since the vector was computed. */
  stale: boolean;
  /** The flag's value: a fold-in clears only the flag it saw. */
  staleMark: string | null;
  /** Newest interaction time the vector includes; null for a published one (the model's watermark). */
  asOf: Date | null;
  /** Precomputed best unseen items, when there are. */
  top: TopItems | null;
  /**
   * The model item indices the vector was encoded from: the user's seen items while it is not
   * stale. Null for a user published before the field existed.
   */
  readonly seen: number[] | null;
}

/** A user's feedback state as Redis holds it. */
export interface CachedFeedback {
  /** Item ids their NEGATIVE events hide; null when none were written (the key holds only a stale mark). */
  hidden: string[] | null;
  /** The rules revision `hidden` was read under. */
  rulesRevision: number | null;
  /** Set when they had an event since: the state may be out of date. */
  staleMark: string | null;
  /** Items the exposure policy hides and until when (ms); null when none were written. */
  exposed: [string, number][] | null;
  /** The exposure policy `exposed` was computed under. */
  policy: string | null;
}

/** What one request reads of a user in one round trip: their cached embedding (of a version) and feedback state. */
export interface CachedUserState {
  /** Null: none, or no version asked for. */
  user: CachedUser | null;
  feedback: CachedFeedback | null;
}

/** Pipelined writes: one round trip per this many commands, several round trips in flight. */
const PIPELINE_SIZE = 1000;
const PIPELINES_IN_FLIGHT = 4;
const SCAN_COUNT = 250;

@Injectable()
export class EmbeddingStoreRepository {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /** Writes a whole kind of vectors under a version, pipelined; reports progress in rows. */
  async writeVectors(
    version: number,
    kind: 'user' | 'item',
    block: VectorBlock,
    onProgress?: (done: number) => void,
  ): Promise<void> {
    const key = kind === 'user' ? userKey : itemKey;
    let next = 0;
    let done = 0;
    // a few pipelines in flight keep both this process and Redis busy
    const lane = async () => {
      while (next < block.ids.length) {
        const start = next;
        const end = Math.min(block.ids.length, start + PIPELINE_SIZE);
        next = end;
        const keys = block.ids.slice(start, end).map((id) => key(version, id));
        const results = await pipelineByKey(this.redis, keys, (pipe, k, i) => {
          const r = start + i;
          const vec = vectorBytes(block.vectors.subarray(r * block.dim, (r + 1) * block.dim));
          const top = block.tops?.[r];
          const seen = block.seen?.[r];
          const similar = block.similar?.[r];
          const fields: (string | Buffer)[] = [VECTOR_FIELD, vec];
          if (top) fields.push(TOP_FIELD, encodeTopItems(top.items, top.scores));
          if (seen) fields.push(SEEN_FIELD, encodeItemIndices(seen));
          if (similar) fields.push(SIMILAR_FIELD, encodeTopItems(similar.items, similar.scores));
          pipe.hset(k, ...fields);
        });
        const failed = results.find(([err]) => err)?.[0];
        if (failed) throw failed;
        done += end - start;
        onProgress?.(done);
      }
    };
    await Promise.all(Array.from({ length: PIPELINES_IN_FLIGHT }, lane));
  }

  /** A version's map of its users or items (see EmbeddingMap), written before the meta. */
  async writeMap(version: number, kind: 'user' | 'item', map: EmbeddingMap): Promise<void> {
    await this.redis.set(mapKey(version, kind), JSON.stringify(map));
  }

  /** Null for a version published without one (before maps existed, or with fewer than two vectors). */
  async readMap(version: number, kind: 'user' | 'item'): Promise<EmbeddingMap | null> {
    const raw = await this.redis.get(mapKey(version, kind));
    return raw === null ? null : (JSON.parse(raw) as EmbeddingMap);
  }

  /** Written after the vectors: a version without meta is incomplete and never activated. */
  async writeMeta(version: number, meta: VersionMeta): Promise<void> {
    // an unknown depth is no field, as in a version published before the field existed
    const known = Object.fromEntries(Object.entries(meta).filter(([, value]) => value !== null));
    await this.redis.hset(metaKey(version), { ...known, [LAYOUT_FIELD]: KEY_LAYOUT });
  }

  async readMeta(version: number): Promise<VersionMeta | null> {
    const raw = await this.redis.hgetall(metaKey(version));
    if (!raw.dim) return null;
    return {
      dim: Number(raw.dim),
      itemDim: Number(raw.itemDim),
      users: Number(raw.users),
      items: Number(raw.items),
      trainedAt: raw.trainedAt,
      modelHash: raw.modelHash,
      topItems: raw.topItems === undefined ? null : Number(raw.topItems),
      similarItems: raw.similarItems === undefined ? null : Number(raw.similarItems),
    };
  }

  async readVector(version: number, kind: 'user' | 'item', id: string): Promise<Float32Array | null> {
    const blob = await this.redis.hgetBuffer(
      kind === 'user' ? userKey(version, id) : itemKey(version, id),
      VECTOR_FIELD,
    );
    return blob ? decodeVector(blob) : null;
  }

  /** Many vectors of one kind in one round trip; null where there is none. */
  readVectors(version: number, kind: 'user' | 'item', ids: readonly string[]): Promise<(Float32Array | null)[]> {
    const key = kind === 'user' ? userKey : itemKey;
    return this.readField(
      ids.map((id) => key(version, id)),
      VECTOR_FIELD,
      decodeVector,
    );
  }

  /** Items' precomputed nearest items in one round trip, in the order asked; null where there are none. */
  readSimilar(version: number, itemIds: readonly string[]): Promise<(TopItems | null)[]> {
    return this.readField(
      itemIds.map((id) => itemKey(version, id)),
      SIMILAR_FIELD,
      decodeTopItems,
    );
  }

  /** One binary field of many hashes, pipelined; null where a hash or its field is missing. */
  private async readField<T>(
    keys: readonly string[],
    field: string,
    decode: (blob: Buffer) => T,
  ): Promise<(T | null)[]> {
    const replies = await pipelineByKey(this.redis, keys, (pipe, key) => pipe.hgetBuffer(key, field));
    return replies.map(([err, blob]) => {
      if (err) throw err;
      return blob ? decode(blob as Buffer) : null;
    });
  }

  /**
   * Every vector of a kind in a version, in batches, without holding them all: SCAN then pipelined
   * reads. SCAN may repeat a key; the caller's `seen` set drops repeats.
   */
  async *scanVectors(
    version: number,
    kind: 'user' | 'item',
    seen: Set<string>,
  ): AsyncGenerator<Array<{ id: string; blob: Buffer }>> {
    for await (const { node, keys } of scanPrimaries(this.redis, kindPattern(version, kind), SCAN_COUNT)) {
      const fresh = keys.filter((k) => !seen.has(idOfKey(k) ?? ''));
      if (fresh.length === 0) continue;
      // the node SCAN found them on holds them: one pipeline to it, whatever their slots
      const pipe = node.pipeline();
      for (const key of fresh) pipe.hgetBuffer(key, VECTOR_FIELD);
      const results = (await pipe.exec()) ?? [];
      const batch: Array<{ id: string; blob: Buffer }> = [];
      fresh.forEach((key, k) => {
        const [err, blob] = results[k];
        if (err) throw err;
        const id = idOfKey(key);
        // a key deleted between SCAN and read (a retirement) has no vector: skip it
        if (id !== null && blob && !seen.has(id)) {
          seen.add(id);
          batch.push({ id, blob: blob as Buffer });
        }
      });
      if (batch.length) yield batch;
    }
  }

  /** The pointer every reader follows; set as the very last step of a publish. */
  async setActive(version: number): Promise<void> {
    await this.redis.multi().set(activeKey(), String(version)).publish(modelActivatedChannel(), String(version)).exec();
  }

  /** The running experiment's canary (null: none runs), and the message that makes every process look. */
  async setCanary(version: number | null): Promise<void> {
    const tx = this.redis.multi();
    if (version === null) tx.del(canaryKey());
    else tx.set(canaryKey(), String(version));
    await tx.publish(experimentChangedChannel(), String(version ?? '')).exec();
  }

  async canaryVersion(): Promise<number | null> {
    const raw = await this.redis.get(canaryKey());
    return raw === null ? null : Number(raw);
  }

  async activeVersion(): Promise<number | null> {
    const raw = await this.redis.get(activeKey());
    return raw === null ? null : Number(raw);
  }

  /** The versions that have any key in Redis (one SCAN of the keyspace), whatever Postgres says of them. */
  async versionsInRedis(): Promise<number[]> {
    const found = new Set<number>();
    for await (const { keys } of scanPrimaries(this.redis, versionsPattern(), SCAN_COUNT * 4)) {
      for (const key of keys) {
        const version = versionOfKey(key);
        if (version !== null) found.add(version);
      }
    }
    return [...found];
  }

  /** Deletes every key of a version (UNLINK: freed in the background). Returns how many. */
  async deleteVersion(version: number): Promise<number> {
    let deleted = 0;
    for await (const { node, keys } of scanPrimaries(this.redis, versionPattern(version), SCAN_COUNT)) {
      // one UNLINK per key: a cluster refuses one command over keys of several slots
      const pipe = node.pipeline();
      for (const key of keys) pipe.unlink(key);
      for (const [err, n] of (await pipe.exec()) ?? []) {
        if (err) throw err;
        deleted += n as number;
      }
    }
    return deleted;
  }

  /**
   * Moves a version written in key layout 1 (`…:user:<id>`, `…:item:<id>`) to layout 2 (the id as
   * the hash tag, `…:user:{<id>}`) by renaming its keys, then records layout 2 in its meta; a
   * version that records it already, or has no meta (incomplete: the sweep deletes it), is left
   * alone. On one Redis (a rename must keep its slot on a cluster): before moving to one. Returns
   * how many keys were renamed, null when the version was left alone.
   */
  async migrateKeyLayout(version: number): Promise<number | null> {
    const [dim, layout] = await this.redis.hmget(metaKey(version), 'dim', LAYOUT_FIELD);
    if (dim === null || Number(layout ?? 1) >= KEY_LAYOUT) return null;
    let renamed = 0;
    for (const kind of ['user', 'item'] as const) {
      const prefix = `${versionPrefix(version)}${kind}:`;
      const key = kind === 'user' ? userKey : itemKey;
      // every name first: SCAN would find the renamed keys again under the same pattern
      const old: string[] = [];
      for await (const { keys } of scanPrimaries(this.redis, kindPattern(version, kind), SCAN_COUNT * 4))
        old.push(...keys);
      for (let start = 0; start < old.length; start += PIPELINE_SIZE) {
        const pipe = this.redis.pipeline();
        // SCAN may repeat a key: renaming it twice fails harmlessly (no such key)
        for (const name of old.slice(start, start + PIPELINE_SIZE))
          pipe.renamenx(name, key(version, name.slice(prefix.length)));
        for (const [err, done] of (await pipe.exec()) ?? []) if (!err && done === 1) renamed++;
      }
    }
    await this.redis.hset(metaKey(version), LAYOUT_FIELD, KEY_LAYOUT);
    return renamed;
  }

  /**
   * Before a user is erased in Postgres: for a while, no fold-in writes their hash back (one that read
   * their history before the erasure and writes after the hashes are gone would bring them back).
   */
  async holdErasure(userId: string, idHash: Buffer): Promise<void> {
    await this.redis.set(erasedKey(userId, idHash), '1', 'EX', ERASED_HOLD_SECONDS);
  }

  /**
   * Erases a user's hash (vector, top list, seen items, flags) in each of these versions, and their
   * feedback state; returns how many keys existed.
   */
  async deleteUser(versions: readonly number[], userId: string): Promise<number> {
    return this.redis.unlink(feedbackKey(userId), ...versions.map((v) => userKey(v, userId)));
  }

  /** A user's cached embedding, whether an interaction recorded since made it stale, and their precomputed top items. */
  async readUser(version: number, userId: string): Promise<CachedUser | null> {
    return (await this.readUsers(version, [userId]))[0];
  }

  /** Many users' cached embeddings in one pipelined round trip (one socket write), in the order asked. */
  async readUsers(version: number, userIds: readonly string[]): Promise<(CachedUser | null)[]> {
    const keys = userIds.map((id) => userKey(version, id));
    const replies = await pipelineByKey(this.redis, keys, (pipe, key) =>
      pipe.hmgetBuffer(key, VECTOR_FIELD, STALE_FIELD, AS_OF_FIELD, TOP_FIELD, SEEN_FIELD),
    );
    return replies.map(([err, fields]) => {
      if (err) throw err;
      return cachedUser(fields as (Buffer | null)[]);
    });
  }

  /**
   * Write-through of a fold-in: the fresh vector, the history time it includes, its top items (or
   * none), the item indices it was encoded from, no longer stale. Only if the stale mark is still
   * the one read before the fold-in (`seenMark`): an interaction flagged meanwhile is not in this
   * vector, so nothing is written. Nor for a user just erased (`idHash`: see holdErasure).
   */
  async writeUser(
    version: number,
    userId: string,
    idHash: Buffer,
    fold: {
      vector: Float32Array;
      asOf: Date | null;
      top: TopItems | null;
      seenMark: string | null;
      seen: ArrayLike<number>;
    },
  ): Promise<boolean> {
    const { vector, asOf, top, seenMark, seen } = fold;
    const written = await this.redis.eval(
      WRITE_UNLESS_FLAGGED_SCRIPT,
      2,
      userKey(version, userId),
      erasedKey(userId, idHash),
      seenMark ?? '',
      vectorBytes(vector),
      asOf ? String(asOf.getTime()) : '',
      top ? encodeTopItems(top.items, top.scores) : '',
      encodeItemIndices(seen),
    );
    return written === 1;
  }

  /** Caches top items computed from the user's current vector; only on an existing hash (never a vector-less key). */
  async writeTop(version: number, userId: string, top: TopItems): Promise<void> {
    await this.redis.eval(
      SET_IF_EXISTS_SCRIPT,
      1,
      userKey(version, userId),
      TOP_FIELD,
      encodeTopItems(top.items, top.scores),
    );
  }

  /**
   * Flags the users' feedback state and their cached embeddings of the live version (and of an
   * experiment's canary), what recording or importing their interactions must do; returns the live
   * version, or null when no model is live (no embedding to flag).
   */
  async markActiveUsersStale(userIds: readonly string[]): Promise<number | null> {
    // at once: one round trip's wait, not two
    // two GETs, not one MGET: on a cluster the two keys live in different slots
    const [, active, canary] = await Promise.all([
      this.markFeedbackStale(userIds),
      this.redis.get(activeKey()),
      this.redis.get(canaryKey()),
    ]);
    const version = active === null ? null : Number(active);
    if (version !== null) await this.markUsersStale(version, userIds);
    if (canary !== null) await this.markUsersStale(Number(canary), userIds);
    return version;
  }

  /** Many users' feedback state in one pipelined round trip, in the order asked; null where there is none. */
  async readFeedback(userIds: readonly string[]): Promise<(CachedFeedback | null)[]> {
    return (await this.readUserStates(null, userIds)).map((s) => s.feedback);
  }

  /**
   * Many users' cached embeddings of `version` (none when null) and feedback states in one
   * pipelined round trip, in the order asked: what a request needs of Redis before it answers.
   */
  async readUserStates(version: number | null, userIds: readonly string[]): Promise<CachedUserState[]> {
    const step = version === null ? 1 : 2;
    // a user's hash and feedback state share a slot (the id is their hash tag): split by node like any batch
    const keys = userIds.flatMap((id) =>
      version === null ? [feedbackKey(id)] : [userKey(version, id), feedbackKey(id)],
    );
    const replies = await pipelineByKey(this.redis, keys, (pipe, key, i) => {
      if (i % step === step - 1) pipe.hmget(key, HIDDEN_FIELD, RULES_FIELD, STALE_FIELD, EXPOSED_FIELD, POLICY_FIELD);
      else pipe.hmgetBuffer(key, VECTOR_FIELD, STALE_FIELD, AS_OF_FIELD, TOP_FIELD, SEEN_FIELD);
    });
    const failed = replies.find(([err]) => err)?.[0];
    if (failed) throw failed;
    return userIds.map((_, i) => ({
      user: version === null ? null : cachedUser(replies[i * step][1] as (Buffer | null)[]),
      feedback: cachedFeedback(replies[i * step + step - 1][1] as (string | null)[]),
    }));
  }

  /**
   * Writes the feedback state read from Postgres, only if the stale mark is still the one read
   * before (`seenMark`, null: none): a mark set meanwhile means an event this state may lack. Nor
   * for a user just erased (`idHash`: see holdErasure).
   */
  async writeFeedback(
    userId: string,
    idHash: Buffer,
    state: {
      hidden: readonly string[];
      rulesRevision: number;
      seenMark: string | null;
      exposed: readonly (readonly [string, number])[];
      /** Null: the exposure policy is off, and `exp` and `pol` are left as they are. */
      policy: string | null;
    },
  ): Promise<boolean> {
    const written = await this.redis.eval(
      WRITE_FEEDBACK_SCRIPT,
      2,
      feedbackKey(userId),
      erasedKey(userId, idHash),
      state.seenMark ?? '',
      JSON.stringify(state.hidden),
      String(state.rulesRevision),
      JSON.stringify(state.exposed),
      state.policy ?? '',
    );
    return written === 1;
  }

  /**
   * Marks the users' feedback state out of date. A user without one gets a mark that expires (as
   * the erasure hold does): a read of Postgres that began before their event then cannot write
   * what it read, and nothing is left behind for users never asked about.
   */
  async markFeedbackStale(userIds: readonly string[]): Promise<void> {
    const mark = `${Date.now()}:${randomBytes(6).toString('hex')}`;
    for (let start = 0; start < userIds.length; start += STALE_PIPELINE_USERS) {
      const keys = userIds.slice(start, start + STALE_PIPELINE_USERS).map(feedbackKey);
      const results = await pipelineByKey(this.redis, keys, (pipe, key) =>
        pipe.eval(MARK_FEEDBACK_STALE_SCRIPT, 1, key, mark, ERASED_HOLD_SECONDS),
      );
      const failed = results.find(([err]) => err)?.[0];
      if (failed) throw failed;
    }
  }

  /** Flags the users' cached embeddings (where there is one) so the next query folds them in again. */
  async markUsersStale(version: number, userIds: readonly string[]): Promise<void> {
    // a new mark each time: a fold-in that started before this one must not clear it
    const mark = `${Date.now()}:${randomBytes(6).toString('hex')}`;
    // a bulk import's million users go in pipelines of a bounded size
    for (let start = 0; start < userIds.length; start += STALE_PIPELINE_USERS) {
      const keys = userIds.slice(start, start + STALE_PIPELINE_USERS).map((id) => userKey(version, id));
      await pipelineByKey(this.redis, keys, (pipe, key) => pipe.eval(SET_IF_EXISTS_SCRIPT, 1, key, STALE_FIELD, mark));
    }
  }
}

const STALE_PIPELINE_USERS = 10_000;

// only existing hashes: a user without an embedding needs no flag, and must not get a key without a vector
const SET_IF_EXISTS_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0`;

// fields: vec, asOf (kept when empty), top and seen (removed when empty); the stale mark must be the one read,
// and the user not just erased (KEYS[2])
const WRITE_UNLESS_FLAGGED_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local mark = redis.call('HGET', KEYS[1], '${STALE_FIELD}') or ''
if mark ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], '${VECTOR_FIELD}', ARGV[2])
redis.call('HDEL', KEYS[1], '${STALE_FIELD}')
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], '${AS_OF_FIELD}', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], '${TOP_FIELD}', ARGV[4]) else redis.call('HDEL', KEYS[1], '${TOP_FIELD}') end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], '${SEEN_FIELD}', ARGV[5]) else redis.call('HDEL', KEYS[1], '${SEEN_FIELD}') end
return 1`;

// a key that holds a state keeps it, marked; a new key is only a mark, and expires
const MARK_FEEDBACK_STALE_SCRIPT = `
local existed = redis.call('EXISTS', KEYS[1])
redis.call('HSET', KEYS[1], '${STALE_FIELD}', ARGV[1])
if existed == 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// the stale mark must be the one read before Postgres was, and the user not just erased (KEYS[2])
const WRITE_FEEDBACK_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local mark = redis.call('HGET', KEYS[1], '${STALE_FIELD}') or ''
if mark ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], '${HIDDEN_FIELD}', ARGV[2], '${RULES_FIELD}', ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], '${EXPOSED_FIELD}', ARGV[4], '${POLICY_FIELD}', ARGV[5]) end
redis.call('HDEL', KEYS[1], '${STALE_FIELD}')
redis.call('PERSIST', KEYS[1])
return 1`;

function cachedFeedback([hidden, rules, stale, exposed, policy]: (string | null)[]): CachedFeedback | null {
  if (hidden === null && stale === null) return null;
  return {
    hidden: hidden === null ? null : (JSON.parse(hidden) as string[]),
    rulesRevision: rules === null ? null : Number(rules),
    staleMark: stale,
    exposed: exposed === null ? null : (JSON.parse(exposed) as [string, number][]),
    policy,
  };
}

function cachedUser([vec, mark, asOf, top, seen]: (Buffer | null)[]): CachedUser | null {
  if (!vec) return null;
  let vector: Float32Array | null = null;
  let seenItems: number[] | null = null;
  return {
    // decoded when asked for: a request answered from the top items never needs it
    get vector() {
      return (vector ??= decodeVector(vec));
    },
    stale: mark !== null,
    staleMark: mark?.toString() ?? null,
    asOf: asOf ? new Date(Number(asOf.toString())) : null,
    top: top ? decodeTopItems(top) : null,
    // decoded when asked for too: the first step of a request never needs it
    get seen() {
      return seen ? (seenItems ??= decodeItemIndices(seen)) : null;
    },
  };
}
