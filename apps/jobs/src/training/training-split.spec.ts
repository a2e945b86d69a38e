import { buildInteractionMatrix, CsrMatrix, rowLength } from '@app/model';
import { generateSynthetic } from '@app/synthetic';
import { heldOutCount, MAX_HELD_OUT_USERS, splitForTraining } from './training-split';

const rowOf = (m: CsrMatrix, r: number) => Array.from(m.indices.subarray(m.indptr[r], m.indptr[r + 1]));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** Early-stopping users, as rows of the interaction matrix: the training rows that lent carveValidation some of their items. */
function earlyStoppingRows(matrix: CsrMatrix, split: ReturnType<typeof splitForTraining>): number[] {
  const rows: number[] = [];
  split.trainRows.forEach((r, k) => rowLength(split.train, k) < rowLength(matrix, r) && rows.push(r));
  return rows;
}

describe(splitForTraining.name, () => {
  const data = generateSynthetic({ users: 500, items: 300, seed: 11, perUser: 25, clusters: 8 });
  const { matrix } = buildInteractionMatrix({
    user: data.user,
    item: data.item,
    weight: data.weight,
    duplicates: 'max',
  });

  it("holds the gate users out of the training rows and out of early stopping, so the metrics are not the early-stopping users'", () => {
    const sut = splitForTraining(matrix, 3);
    const gate = new Set(sut.gate.rows);
    const early = earlyStoppingRows(matrix, sut);
    expect([gate.size, early.length, sut.earlyStopping.input.rows]).toEqual([50, 50, 50]);
    early.forEach((r) => expect(gate.has(r)).toBe(false));
    // what trainDae sees: the other 450 users' rows, none of a gate user
    expect(sut.train.rows).toBe(450);
    sut.trainRows.forEach((r) => expect(gate.has(r)).toBe(false));
    // and every early-stopping user's input is what it trains on, its targets the rest of its row
    early.forEach((r, e) => {
      const k = sut.trainRows.indexOf(r);
      expect(rowOf(sut.earlyStopping.input, e)).toEqual(rowOf(sut.train, k));
      expect(sorted([...rowOf(sut.earlyStopping.input, e), ...rowOf(sut.earlyStopping.heldOut, e)])).toEqual(
        rowOf(matrix, r),
      );
    });
    // each gate user's fold-in input and targets are its whole row, and nothing of it is trained on
    sut.gate.rows.forEach((r, g) =>
      expect(sorted([...rowOf(sut.gate.input, g), ...rowOf(sut.gate.heldOut, g)])).toEqual(rowOf(matrix, r)),
    );
    const gateInteractions = sut.gate.input.indices.length + sut.gate.heldOut.indices.length;
    expect(sut.train.indices.length + sut.earlyStopping.heldOut.indices.length + gateInteractions).toBe(
      matrix.indices.length,
    );
  });

  it('draws both sets from the seed: the same for a retrain with it, other users for another', () => {
    const a = splitForTraining(matrix, 3);
    const again = splitForTraining(matrix, 3);
    expect(Array.from(again.gate.rows)).toEqual(Array.from(a.gate.rows));
    expect(earlyStoppingRows(matrix, again)).toEqual(earlyStoppingRows(matrix, a));
    expect(Array.from(again.gate.heldOut.indices)).toEqual(Array.from(a.gate.heldOut.indices));
    const other = splitForTraining(matrix, 4);
    expect(Array.from(other.gate.rows)).not.toEqual(Array.from(a.gate.rows));
  });
});

describe(heldOutCount.name, () => {
  it.each([
    [2000, 200], // the demo: a tenth
    [500, 50],
    [200, 40], // small data: at least 50, but at most a fifth of the users
    [100, 20],
    [4, 0],
    [10_000_000, MAX_HELD_OUT_USERS],
  ])('%d users: %d held out in each set', (users, expected) => {
    expect(heldOutCount(users)).toBe(expected);
  });
});
