import { createRng } from '@app/random';
import { topK } from './score';

describe(topK.name, () => {
  const fullSort = (scores: Float32Array, k: number, exclude: Set<number>) =>
    Array.from(scores, (s, i) => ({ s, i }))
      .filter(({ i }) => !exclude.has(i))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, k)
      .map(({ i }) => i);

  it('matches a full sort with exclusions, ties to the lower index', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.int(300);
      // coarse scores so ties happen
      const scores = Float32Array.from({ length: n }, () => Math.round(rng.next() * 20));
      const exclude = new Set(Array.from({ length: rng.int(n) }, () => rng.int(n)));
      const k = 1 + rng.int(30);
      expect(Array.from(topK(scores, k, [...exclude]))).toEqual(fullSort(scores, k, exclude));
    }
  });

  it('returns fewer than k when the exclusions leave fewer items', () => {
    expect(Array.from(topK(Float32Array.from([1, 3, 2]), 5, [1]))).toEqual([2, 0]);
    expect(topK(Float32Array.from([1]), 0)).toHaveLength(0);
  });
});
