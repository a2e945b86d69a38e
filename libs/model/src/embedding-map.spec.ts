import { createRng } from '@app/random';
import { EmbeddingMapFitter, fitEmbeddingMap, mapSampleRows, projectOnMap, topEigenvectors } from './embedding-map';

const DIM = 12;

/** Points spread 3 along one hidden direction, 1 along another, 0.1 everywhere: PCA must find the two. */
function cloud(rows: number, seed = 1) {
  const rng = createRng(seed);
  const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const first = unit(Array.from({ length: DIM }, () => rng.normal()));
  // the second made orthogonal to the first
  const raw = Array.from({ length: DIM }, () => rng.normal());
  const along = raw.reduce((s, x, d) => s + x * first[d], 0);
  const second = unit(raw.map((x, d) => x - along * first[d]));
  const centre = Array.from({ length: DIM }, (_, d) => d / 4);
  const vectors = new Float32Array(rows * DIM);
  for (let r = 0; r < rows; r++) {
    const a = 3 * rng.normal();
    const b = rng.normal();
    for (let d = 0; d < DIM; d++) vectors[r * DIM + d] = centre[d] + a * first[d] + b * second[d] + 0.1 * rng.normal();
  }
  return { vectors, first, second, centre };
}

const dot = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from(x).reduce((s, v, i) => s + v * y[i], 0);

describe('embedding map (PCA)', () => {
  it('finds the directions of largest variance and their share of it', () => {
    const { vectors, first, second, centre } = cloud(5000);
    const map = fitEmbeddingMap(vectors, DIM)!;
    expect(map.components).toHaveLength(2);
    expect(Math.abs(dot(map.components[0], first))).toBeGreaterThan(0.999);
    expect(Math.abs(dot(map.components[1], second))).toBeGreaterThan(0.999);
    expect(dot(map.components[0], map.components[1])).toBeCloseTo(0, 10);
    // variances 9, 1 and 12 x 0.01 of noise
    expect(map.explainedVariance[0]).toBeCloseTo(9 / 10.12, 1);
    expect(map.explainedVariance[1]).toBeCloseTo(1 / 10.12, 1);
    map.mean.forEach((m, d) => expect(m).toBeCloseTo(centre[d], 1));
    expect(map.rows).toBe(5000);
  });

  it('places a vector by its offset from the mean along each component', () => {
    const { vectors } = cloud(2000);
    const map = fitEmbeddingMap(vectors, DIM)!;
    expect(projectOnMap(map, map.mean).map((x) => Math.abs(x))).toEqual([0, 0]);
    const moved = map.mean.map((m, d) => m + 2 * map.components[0][d] - 0.5 * map.components[1][d]);
    const [x, y] = projectOnMap(map, moved);
    expect(x).toBeCloseTo(2, 10);
    expect(y).toBeCloseTo(-0.5, 10);
    expect(() => projectOnMap(map, [1, 2])).toThrow(/vector of 12/);
  });

  it('fits the same map from chunks as from one block, sampling evenly past maxRows', () => {
    const { vectors } = cloud(1000);
    const whole = fitEmbeddingMap(vectors, DIM, { maxRows: 300 })!;
    // stride ceil(1000 / 300) = 4: rows 0, 4, 8, ...
    expect(whole.rows).toBe(250);
    const fitter = new EmbeddingMapFitter(DIM, 1000, false, 300);
    for (const [from, to] of [
      [0, 7],
      [7, 250],
      [250, 251],
      [251, 1000],
    ])
      fitter.add(vectors.subarray(from * DIM, to * DIM), from);
    const chunked = fitter.fit()!;
    expect(chunked.rows).toBe(250);
    chunked.mean.forEach((m, d) => expect(m).toBeCloseTo(whole.mean[d], 12));
    chunked.components.forEach((c, j) => c.forEach((v, d) => expect(v).toBeCloseTo(whole.components[j][d], 8)));
  });

  it('is the same on every run, signs included', () => {
    const { vectors } = cloud(800, 3);
    expect(fitEmbeddingMap(vectors, DIM)).toEqual(fitEmbeddingMap(vectors, DIM));
    const { vectors: flipped } = { vectors: vectors.map((x) => -x) };
    // a mirrored cloud has the same axes: the sign rule picks the same orientation
    const a = fitEmbeddingMap(vectors, DIM)!.components[0];
    const b = fitEmbeddingMap(flipped, DIM)!.components[0];
    a.forEach((v, d) => expect(v).toBeCloseTo(b[d], 8));
  });

  it('maps items by direction when asked to normalise (cosine neighbours stay close)', () => {
    const { vectors } = cloud(500);
    const map = fitEmbeddingMap(vectors, DIM, { normalize: true })!;
    expect(map.normalize).toBe(true);
    const v = Array.from(vectors.subarray(0, DIM));
    const [x1, y1] = projectOnMap(map, v);
    const [x2, y2] = projectOnMap(
      map,
      v.map((x) => 10 * x),
    );
    expect(x2).toBeCloseTo(x1, 10);
    expect(y2).toBeCloseTo(y1, 10);
  });

  it('samples fewer of wider vectors, so a fit costs about the same at any width', () => {
    expect(mapSampleRows(200)).toBe(20_000);
    expect(mapSampleRows(600)).toBe(5_555);
    expect(mapSampleRows(5000)).toBe(1_000);
  });

  it('has no map without two vectors', () => {
    expect(fitEmbeddingMap(new Float32Array(DIM), DIM)).toBeNull();
    expect(fitEmbeddingMap(new Float32Array(0), DIM)).toBeNull();
  });

  it('topEigenvectors solves a symmetric matrix: A v = lambda v, largest first', () => {
    const n = 30;
    const rng = createRng(5);
    const b = Array.from({ length: n * n }, () => rng.normal());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[k * n + i] * b[k * n + j];
    const { vectors, values } = topEigenvectors(a, n, 3);
    expect(values[0]).toBeGreaterThanOrEqual(values[1]);
    expect(values[1]).toBeGreaterThanOrEqual(values[2]);
    vectors.forEach((v, j) => {
      for (let i = 0; i < n; i++) {
        const av = v.reduce((s, x, k) => s + a[i * n + k] * x, 0);
        expect(av).toBeCloseTo(values[j] * v[i], 6);
      }
    });
    // the largest: no unit vector has a larger Rayleigh quotient than the first
    const trial = Array.from({ length: n }, () => rng.normal());
    const norm = Math.hypot(...trial);
    const quotient = trial.reduce(
      (s, x, i) => s + (x / norm) * trial.reduce((t, y, k) => t + a[i * n + k] * (y / norm), 0),
      0,
    );
    expect(quotient).toBeLessThanOrEqual(values[0]);
  });
});
