import {
  decodeItemIndices,
  decodeTopItems,
  decodeVector,
  encodeItemIndices,
  encodeTopItems,
  vectorBytes,
} from './embedding-keys';

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
