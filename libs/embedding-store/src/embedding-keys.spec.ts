import {
  decodeItemIndices,
  decodeTopItems,
  decodeVector,
  encodeItemIndices,
  encodeTopItems,
  erasedKey,
  feedbackKey,
  idOfKey,
  itemKey,
  userKey,
  vectorBytes,
  versionOfKey,
} from './embedding-keys';
import { keySlot, tagOfSlot } from '@app/redis/key-slot';

describe('top items field', () => {
  it('round-trips indices and float32 scores, also from a reply that starts at an odd byte offset', () => {
    const items = [19_999, 0, 7];
    const scores = [0.25, -1.5, 3.0000001];
    const blob = encodeTopItems(items, scores);
    expect(blob).toHaveLength(24);
    // Redis replies are slices of a larger buffer, at any offset
    const shifted = Buffer.concat([Buffer.from([1]), blob]).subarray(1);
    const top = decodeTopItems(shifted);
    expect(Array.from(top.items)).toEqual(items);
    expect(Array.from(top.scores)).toEqual(scores.map(Math.fround));
    // the documented layout: uint32 LE index, then float32 LE score
    expect(blob.readUInt32LE(16)).toBe(7);
    expect(blob.readFloatLE(12)).toBe(-1.5);
  });

  it('decodes a vector from an unaligned reply', () => {
    const v = Float32Array.from([1.5, -2, 0.125]);
    const shifted = Buffer.concat([Buffer.from([9, 9, 9]), vectorBytes(v)]).subarray(3);
    expect(Array.from(decodeVector(shifted))).toEqual(Array.from(v));
  });

  it('round-trips seen item indices as uint32 LE, from an unaligned reply', () => {
    const blob = encodeItemIndices([4_000_000_000, 0, 19_999]);
    expect(blob).toHaveLength(12);
    expect(blob.readUInt32LE(8)).toBe(19_999);
    const shifted = Buffer.concat([Buffer.from([7]), blob]).subarray(1);
    expect(decodeItemIndices(shifted)).toEqual([4_000_000_000, 0, 19_999]);
    expect(decodeItemIndices(Buffer.alloc(0))).toEqual([]);
  });
});

describe('key layout 2 on a cluster', () => {
  it('computes the slots Redis Cluster does, from the hash tag when there is one', () => {
    // values of CLUSTER KEYSLOT
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    // an empty tag is no tag: the whole key counts
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
  });

  it("keeps every key of a user in one slot: all versions, feedback state, erasure mark; a version's users spread", () => {
    const id = 'customer-4711@example.com';
    const hash = Buffer.from('9f86d081884c7d659a2feaa0c55ad015', 'hex');
    const slot = keySlot(userKey(1, id));
    expect([userKey(7, id), feedbackKey(id), erasedKey(id, hash)].map(keySlot)).toEqual([slot, slot, slot]);
    // the mark holds no id, only the keyed hash and a stand-in tag
    expect(erasedKey(id, hash)).not.toContain('customer');
    expect(erasedKey(id, hash)).toContain(hash.toString('hex'));
    const slots = new Set(Array.from({ length: 200 }, (_, i) => keySlot(userKey(3, `u${i}`))));
    expect(slots.size).toBeGreaterThan(190);
    expect(keySlot(itemKey(3, 'i9'))).toBe(keySlot(itemKey(4, 'i9')));
  });

  it('has a stand-in tag for every slot', () => {
    for (const slot of [0, 1, 8191, 16383]) expect(keySlot(`{${tagOfSlot(slot)}}`)).toBe(slot);
  });

  it("never names a short id's mark by the id itself, though the shortest tag of its slot is the id", () => {
    const hash = Buffer.from('ab', 'hex');
    expect(tagOfSlot(keySlot('u3'))).toBe('u3');
    expect(erasedKey('u3', hash)).not.toContain('u3');
    expect(keySlot(erasedKey('u3', hash))).toBe(keySlot(userKey(1, 'u3')));
  });

  it('reads the id and the version back from a key, ids with braces and colons included', () => {
    expect(idOfKey(userKey(12, 'a:{b}'))).toBe('a:{b}');
    expect(idOfKey(itemKey(12, 'm42'))).toBe('m42');
    expect(versionOfKey(userKey(12, 'x'))).toBe(12);
    expect(versionOfKey(feedbackKey('x'))).toBeNull();
  });
});
