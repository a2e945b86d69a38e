import { createRng } from '@app/random';
import { buildCsr, CsrMatrix, rowLength } from '../interaction-matrix';
import { evaluateRanking } from './metrics';
import { holdOutUsers, reindexHeldOut } from './held-out-users';

// 40 users x 30 items: user u has items u % 30 .. u % 30 + (u % 8) + 2 (mod 30), so lengths 3..10
function fixture(): CsrMatrix {
  const user: number[] = [],
    item: number[] = [];
  for (let u = 0; u < 40; u++) {
    for (let j = 0; j < (u % 8) + 3; j++) {
      user.push(u);
      item.push((u + j) % 30);
    }
  }
  return buildCsr(40, 30, Int32Array.from(user), Int32Array.from(item));
}
const rowOf = (m: CsrMatrix, r: number) => Array.from(m.indices.subarray(m.indptr[r], m.indptr[r + 1]));

describe(holdOutUsers.name, () => {
  it('takes users with enough items out of the rest whole, and cuts each one into fold-in input and targets', () => {
    const matrix = fixture();
    const sut = holdOutUsers(matrix, 6, createRng(3));
    expect(sut.rows).toHaveLength(6);
    expect(sut.rest.rows + sut.rows.length).toBe(40);
    const held = new Set(sut.rows);
    sut.restRows.forEach((r) => expect(held.has(r)).toBe(false));
    // the rest is the other users' rows unchanged
    sut.restRows.forEach((r, k) => expect(rowOf(sut.rest, k)).toEqual(rowOf(matrix, r)));
    sut.rows.forEach((r, k) => {
      expect(rowLength(matrix, r)).toBeGreaterThanOrEqual(5);
      const input = rowOf(sut.input, k);
      const targets = rowOf(sut.heldOut, k);
      expect(targets).toHaveLength(Math.max(1, Math.round(0.2 * rowLength(matrix, r))));
      expect([...input, ...targets].sort((a, b) => a - b)).toEqual(rowOf(matrix, r));
    });
  });

  it('is reproducible for a seed and draws other users for another', () => {
    const a = holdOutUsers(fixture(), 6, createRng(3));
    expect(Array.from(holdOutUsers(fixture(), 6, createRng(3)).rows)).toEqual(Array.from(a.rows));
    expect(Array.from(holdOutUsers(fixture(), 6, createRng(4)).rows)).not.toEqual(Array.from(a.rows));
  });

  it('holds out only as many users as have enough items', () => {
    // lengths 3..10 cycle every 8 users: 6 of 8 have at least 5 items
    expect(holdOutUsers(fixture(), 100, createRng(1)).rows).toHaveLength(30);
    expect(holdOutUsers(fixture(), 0, createRng(1)).rest.rows).toBe(40);
  });
});

describe(reindexHeldOut.name, () => {
  // one user: input items a, b, x; targets c, y, z (x, y, z unknown to the other model)
  const fromIds = ['a', 'b', 'c', 'x', 'y', 'z'];
  const set = {
    input: buildCsr(1, 6, Int32Array.from([0, 0, 0]), Int32Array.from([0, 1, 3])),
    heldOut: buildCsr(1, 6, Int32Array.from([0, 0, 0]), Int32Array.from([2, 4, 5])),
  };

  it('maps items by id, drops unknown input items and keeps unknown targets past the catalogue', () => {
    const sut = reindexHeldOut(set, fromIds, ['c', 'b', 'a', 'd']);
    expect(sut.input.cols).toBe(4);
    expect(rowOf(sut.input, 0)).toEqual([1, 2]);
    expect(sut.heldOut.cols).toBe(6);
    expect(rowOf(sut.heldOut, 0)).toEqual([0, 4, 5]);
  });

  it('counts unknown targets as misses: a perfect scorer of the known ones finds one of three', () => {
    const sut = reindexHeldOut(set, fromIds, ['c', 'b', 'a', 'd']);
    // prefers c, then d: c is found at rank 1, y and z can never be
    const scorer = () => Float32Array.from([4, 1, 1, 3]);
    const found = evaluateRanking(scorer, sut.input, sut.heldOut, [{ name: 'recall@2', kind: 'recall', k: 2 }]);
    expect(found['recall@2']).toBeCloseTo(1 / 3, 10);
  });
});
