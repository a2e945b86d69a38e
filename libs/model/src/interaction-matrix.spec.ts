import {
  buildCsr,
  buildInteractionMatrix,
  IdIndex,
  rowsFromItemLists,
  selectRows,
  transposeCsr,
} from './interaction-matrix';

const dense = (m: ReturnType<typeof buildCsr>): number[][] => {
  const out = Array.from({ length: m.rows }, () => new Array<number>(m.cols).fill(0));
  for (let r = 0; r < m.rows; r++)
    for (let q = m.indptr[r]; q < m.indptr[r + 1]; q++) out[r][m.indices[q]] = m.values[q];
  return out;
};

describe(buildCsr.name, () => {
  it('sorts entries into rows with ascending columns and sums duplicates', () => {
    const sut = buildCsr(
      3,
      4,
      Int32Array.from([2, 0, 0, 2, 0]),
      Int32Array.from([1, 3, 0, 1, 3]),
      Float32Array.from([1, 2, 3, 4, 5]),
    );
    expect(Array.from(sut.indptr)).toEqual([0, 2, 2, 3]);
    expect(Array.from(sut.indices)).toEqual([0, 3, 1]);
    expect(dense(sut)).toEqual([
      [3, 0, 0, 7],
      [0, 0, 0, 0],
      [0, 5, 0, 0],
    ]);
  });

  it('keeps the max or the last value of duplicates when asked', () => {
    const rows = Int32Array.from([0, 0, 0]);
    const cols = Int32Array.from([1, 1, 1]);
    const vals = Float32Array.from([2, 5, 1]);
    expect(dense(buildCsr(1, 2, rows, cols, vals, 'max'))).toEqual([[0, 5]]);
    expect(dense(buildCsr(1, 2, rows, cols, vals, 'last'))).toEqual([[0, 1]]);
  });

  it('rejects entries outside the shape', () => {
    expect(() => buildCsr(1, 1, Int32Array.from([0]), Int32Array.from([1]))).toThrow(RangeError);
  });
});

describe(IdIndex.name, () => {
  it('maps external ids to dense indexes in first-seen order and back', () => {
    const sut = new IdIndex();
    expect(['b', 'a', 'b', 'c'].map((id) => sut.intern(id))).toEqual([0, 1, 0, 2]);
    expect(sut.size).toBe(3);
    expect(sut.indexOf('c')).toBe(2);
    expect(sut.indexOf('zz')).toBeUndefined();
    expect(sut.idAt(1)).toBe('a');
    expect(() => sut.idAt(3)).toThrow(RangeError);
  });
});

describe(buildInteractionMatrix.name, () => {
  it('builds CSR and id maps from typed arrays', () => {
    const sut = buildInteractionMatrix({
      user: Int32Array.from([1, 0, 1]),
      item: Int32Array.from([0, 2, 2]),
      weight: Float32Array.from([4, 1, 2]),
      userIds: ['alice', 'bob'],
      itemIds: ['x', 'y', 'z'],
    });
    expect(sut.users.indexOf('bob')).toBe(1);
    expect(sut.items.idAt(2)).toBe('z');
    expect(dense(sut.matrix)).toEqual([
      [0, 0, 1],
      [4, 0, 2],
    ]);
  });

  it('sizes the matrix from the largest index without id lists', () => {
    const sut = buildInteractionMatrix({ user: Int32Array.from([0, 3]), item: Int32Array.from([5, 0]) });
    expect([sut.matrix.rows, sut.matrix.cols, sut.users.idAt(3)]).toEqual([4, 6, '3']);
  });
});

describe('row helpers', () => {
  const m = buildCsr(
    3,
    3,
    Int32Array.from([0, 1, 1, 2]),
    Int32Array.from([0, 1, 2, 0]),
    Float32Array.from([1, 2, 3, 4]),
  );

  it('selects rows in the given order', () => {
    expect(dense(selectRows(m, [2, 0]))).toEqual([
      [4, 0, 0],
      [1, 0, 0],
    ]);
  });

  it('transposes', () => {
    expect(dense(transposeCsr(m))).toEqual([
      [1, 0, 4],
      [0, 2, 0],
      [0, 3, 0],
    ]);
  });

  it('builds rows from item lists', () => {
    expect(dense(rowsFromItemLists(3, [[2, 0], []]))).toEqual([
      [1, 0, 1],
      [0, 0, 0],
    ]);
  });
});
