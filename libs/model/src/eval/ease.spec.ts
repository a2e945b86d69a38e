import { buildCsr } from '../interaction-matrix';
import { Ease } from './ease';
import { invertSpd } from './linalg';

describe(Ease.name, () => {
  // users: {0}, {0, 1}, {1}. X^T X = [[2, 1], [1, 2]]; lambda 1: P = [[3, -1], [-1, 3]] / 8,
  // B_01 = -P_01 / P_11 = 1/3 = B_10, diag 0. Scores: {0} -> [0, 1/3], {0,1} -> [1/3, 1/3].
  const train = buildCsr(3, 2, Int32Array.from([0, 1, 1, 2]), Int32Array.from([0, 0, 1, 1]));
  const rows = buildCsr(2, 2, Int32Array.from([0, 1, 1]), Int32Array.from([0, 0, 1]));

  it.each(['primal', 'dual'] as const)('matches the hand-solved 2-item case (%s)', (side) => {
    const sut = Ease.fitWith(train, 1, side);
    const s = Array.from(sut.scores(rows));
    [0, 1 / 3, 1 / 3, 1 / 3].forEach((x, k) => expect(s[k]).toBeCloseTo(x, 6));
  });

  it('gives the same scores from the item side and the user side', () => {
    // 4 users x 6 items: the dual (Woodbury) path applies by default
    const x = buildCsr(
      4,
      6,
      Int32Array.from([0, 0, 1, 1, 1, 2, 2, 3, 3]),
      Int32Array.from([0, 2, 1, 2, 5, 0, 4, 3, 5]),
    );
    const primal = Ease.fitWith(x, 0.7, 'primal').scores(x);
    const dual = Ease.fit(x, 0.7).scores(x);
    primal.forEach((v, k) => expect(dual[k]).toBeCloseTo(v, 5));
  });
});

describe(invertSpd.name, () => {
  it('inverts a symmetric positive-definite matrix', () => {
    const a = Float64Array.from([4, 2, 0.6, 2, 5, 1, 0.6, 1, 3]);
    const inv = invertSpd(a, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += a[i * 3 + k] * inv[k * 3 + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
      }
    }
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => invertSpd(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/positive definite/);
  });
});
