import { createRng, shuffleInPlace } from './index';

describe(createRng.name, () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const a = createRng(7),
      b = createRng(7),
      c = createRng(8);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });

  it('draws uniform numbers and standard normals with the right moments', () => {
    const rng = createRng(1);
    let sum = 0,
      sumSq = 0,
      usum = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
      usum += rng.next();
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.03);
    expect(Math.abs(usum / n - 0.5)).toBeLessThan(0.01);
  });

  it('shuffles into a permutation', () => {
    const arr = Int32Array.from({ length: 100 }, (_, i) => i);
    shuffleInPlace(arr, createRng(3));
    expect(Array.from(arr).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(arr)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
