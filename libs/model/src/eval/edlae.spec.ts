import * as tf from '@tensorflow/tfjs';
import { createRng } from '@app/random';
import { initBackend, ModelBackend } from '../backend';
import { buildCsr, CsrMatrix } from '../interaction-matrix';
import { Edlae } from './edlae';
import { invertSpd } from './linalg';
import { invertSpdF32 } from './spd-inverse-f32';

/** Sparse binary users x items with skewed item popularity, as interaction data has. */
function sparseBinary(users: number, items: number, perUser: number, seed: number): CsrMatrix {
  const rng = createRng(seed);
  const r: number[] = [];
  const c: number[] = [];
  for (let u = 0; u < users; u++) {
    const seen = new Set<number>();
    for (let k = 0; k < perUser; k++) seen.add(Math.floor(items * rng.next() ** 2));
    for (const i of seen) {
      r.push(u);
      c.push(i);
    }
  }
  return buildCsr(users, items, Int32Array.from(r), Int32Array.from(c));
}

/** X^T X + lambda I in float64. */
function gramPlus(x: CsrMatrix, lambda: number): Float64Array {
  const n = x.cols;
  const g = new Float64Array(n * n);
  for (let u = 0; u < x.rows; u++) {
    const items = x.indices.subarray(x.indptr[u], x.indptr[u + 1]);
    for (const a of items) for (const b of items) g[a * n + b] += 1;
  }
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  return g;
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);

// users: {0}, {0, 1}, {1}. X^T X = [[2, 1], [1, 2]], diag 2. lambda 1, dropout 1/2: Lambda = 2 / 2 * 2 + 1 = 3,
// P = [[5, 1], [1, 5]]^-1 = [[5, -1], [-1, 5]] / 24, B_01 = -P_01 / P_11 = 1/5 = B_10. {0} -> [0, 1/5], {0,1} -> [1/5, 1/5].
const train = buildCsr(3, 2, Int32Array.from([0, 1, 1, 2]), Int32Array.from([0, 0, 1, 1]));
const rows = buildCsr(2, 2, Int32Array.from([0, 1, 1]), Int32Array.from([0, 0, 1]));

describe.each(['cpu', 'wasm'] as ModelBackend[])('linear models on the %s backend', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  describe(invertSpdF32.name, () => {
    it('matches the float64 inverse of a Gram matrix across ragged blocks', () => {
      const x = sparseBinary(900, 300, 12, 1);
      const a = gramPlus(x, 4);
      const want = invertSpd(a, 300);
      const tensorsBefore = tf.memory().numTensors;
      // blocks of 64 over 300 rows: four full blocks and a ragged one of 44; row chunks ragged too
      const got = invertSpdF32(Float32Array.from(a), 300, { block: 64, rowChunk: 96, belowChunk: 80 });
      expect(maxDiff(got, want) / maxAbs(want)).toBeLessThan(1e-5);
      // symmetric to the bit: the upper triangle is mirrored from the lower
      expect(got[3 * 300 + 250]).toBe(got[250 * 300 + 3]);
      // every tile disposed: a 16k x 16k inverse makes thousands
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    });

    it('refuses a matrix that is not positive definite, naming the pivot', () => {
      const a = gramPlus(sparseBinary(200, 100, 8, 2), 1);
      a[70 * 100 + 70] = -5;
      expect(() => invertSpdF32(Float32Array.from(a), 100, { block: 32 })).toThrow(
        'matrix is not positive definite (pivot 70)',
      );
    });

    it('refuses an array of the wrong size', () => {
      expect(() => invertSpdF32(new Float32Array(5), 2)).toThrow(RangeError);
    });
  });

  describe(Edlae.name, () => {
    it.each(['primal', 'dual'] as const)('matches the hand-solved 2-item case with dropout (%s)', (side) => {
      const sut = Edlae.fit(train, { lambda: 1, dropout: 0.5 }, { side });
      const s = Array.from(sut.scores(rows));
      [0, 1 / 5, 1 / 5, 1 / 5].forEach((v, k) => expect(s[k]).toBeCloseTo(v, 6));
    });

    it.each(['primal', 'dual'] as const)('is EASE with no dropout: the hand-solved EASE case (%s)', (side) => {
      // lambda 1, no dropout: P = [[3, -1], [-1, 3]] / 8, B_01 = 1/3 (ease.spec.ts)
      const s = Array.from(Edlae.fit(train, { lambda: 1, dropout: 0 }, { side }).scores(rows));
      [0, 1 / 3, 1 / 3, 1 / 3].forEach((v, k) => expect(s[k]).toBeCloseTo(v, 6));
    });

    it('scores differently once dropout is on (the penalty grows with popularity)', () => {
      const x = sparseBinary(500, 40, 6, 3);
      const ease = Edlae.fit(x, { lambda: 3 }).scores(x);
      const edlae = Edlae.fit(x, { lambda: 3, dropout: 0.3 }).scores(x);
      expect(maxDiff(ease, edlae)).toBeGreaterThan(1e-3);
    });

    it.each(['float64', 'float32'] as const)(
      'gives the same scores from the item and the user side, with dropout (%s)',
      (precision) => {
        const x = sparseBinary(60, 150, 10, 4);
        const primal = Edlae.fit(x, { lambda: 2, dropout: 0.2 }, { side: 'primal', precision }).scores(x);
        const dual = Edlae.fit(x, { lambda: 2, dropout: 0.2 }, { side: 'dual', precision }).scores(x);
        expect(maxDiff(dual, primal) / maxAbs(primal)).toBeLessThan(precision === 'float64' ? 1e-9 : 1e-4);
      },
    );

    it('fits float32 at 600 items close to the float64 reference', () => {
      const x = sparseBinary(2000, 600, 15, 5);
      const fast = Edlae.fit(x, { lambda: 10, dropout: 0.1 }, { precision: 'float32' });
      const exact = Edlae.fit(x, { lambda: 10, dropout: 0.1 }, { precision: 'float64' });
      expect(fast.weights).toBeInstanceOf(Float32Array);
      expect(exact.weights).toBeInstanceOf(Float64Array);
      expect(maxDiff(fast.weights, exact.weights) / maxAbs(exact.weights)).toBeLessThan(1e-4);
    });

    it('gives the same models along a path as one at a time', () => {
      const x = sparseBinary(300, 50, 8, 6);
      const path = [{ lambda: 1 }, { lambda: 5, dropout: 0.25 }, { lambda: 20 }];
      const models = [...Edlae.fitPath(x, path)];
      models.forEach((m, k) => expect(m.scores(x)).toEqual(Edlae.fit(x, path[k]).scores(x)));
    });

    it('refuses a non-positive lambda and a dropout outside [0, 1)', () => {
      expect(() => Edlae.fit(train, { lambda: 0 })).toThrow('lambda must be positive');
      expect(() => Edlae.fit(train, { lambda: 1, dropout: 1 })).toThrow('dropout must be in [0, 1)');
    });
  });

  describe('top-k sparsified weights', () => {
    const x = sparseBinary(400, 60, 8, 7);
    const model = Edlae.fit(x, { lambda: 5, dropout: 0.1 });

    it.each(['row', 'column'] as const)('scores as the dense weights when every weight is kept (by %s)', (by) => {
      expect(maxDiff(model.topK(60, by).scores(x), model.scores(x))).toBeLessThan(1e-5);
    });

    it.each(['row', 'column'] as const)("keeps each item's k weights of largest magnitude (by %s)", (by) => {
      const sparse = model.topK(3, by).weights;
      const at = (i: number, j: number) => (by === 'row' ? model.weights[i * 60 + j] : model.weights[j * 60 + i]);
      const kept = Array.from({ length: 60 }, () => new Map<number, number>());
      for (let r = 0; r < 60; r++) {
        for (let q = sparse.indptr[r]; q < sparse.indptr[r + 1]; q++) {
          const [i, j] = by === 'row' ? [r, sparse.indices[q]] : [sparse.indices[q], r];
          kept[i].set(j, sparse.values[q]);
        }
      }
      for (let i = 0; i < 60; i++) {
        const third = Array.from({ length: 60 }, (_, j) => Math.abs(at(i, j))).sort((a, b) => b - a)[2];
        expect(kept[i].size).toBe(3);
        kept[i].forEach((v, j) => {
          expect(Math.abs(at(i, j))).toBeGreaterThanOrEqual(third);
          expect(v).toBeCloseTo(at(i, j), 6);
        });
      }
    });

    it('refuses k that is not a positive integer', () => {
      expect(() => model.topK(0)).toThrow('k must be a positive integer');
    });
  });
});
