import { IdIndex, rowLength } from '../interaction-matrix';
import { filterCore, LabeledInteractions, strongGeneralizationSplit, userRandomSplit } from './splits';

// 40 users x 30 items: user u has items u % 30 .. u % 30 + 9 (mod 30), weight 1..5
function fixture(): LabeledInteractions {
  const users = new IdIndex();
  const items = new IdIndex();
  const user: number[] = [],
    item: number[] = [],
    weight: number[] = [];
  for (let u = 0; u < 40; u++) {
    for (let j = 0; j < 10; j++) {
      user.push(users.intern(`u${u}`));
      item.push(items.intern(`i${(u + j) % 30}`));
      weight.push(1 + ((u + j) % 5));
    }
  }
  return { users, items, user: Int32Array.from(user), item: Int32Array.from(item), weight: Float32Array.from(weight) };
}

describe(strongGeneralizationSplit.name, () => {
  it('holds out disjoint users and splits their items 80 / 20 without overlap', () => {
    const sut = strongGeneralizationSplit(fixture(), 1, { heldOutUsers: 0.1, foldIn: 0.8 });
    const val = sut.validation!;
    expect(sut.trainUserIds).toHaveLength(32);
    expect([val.userIds.length, sut.test.userIds.length]).toEqual([4, 4]);
    const all = [...sut.trainUserIds, ...val.userIds, ...sut.test.userIds];
    expect(new Set(all).size).toBe(40);
    for (let r = 0; r < 4; r++) {
      expect([rowLength(sut.test.input, r), rowLength(sut.test.heldOut, r)]).toEqual([8, 2]);
      const input = new Set(sut.test.input.indices.subarray(sut.test.input.indptr[r], sut.test.input.indptr[r + 1]));
      sut.test.heldOut.indices
        .subarray(sut.test.heldOut.indptr[r], sut.test.heldOut.indptr[r + 1])
        .forEach((i) => expect(input.has(i)).toBe(false));
    }
  });

  it('is reproducible for a seed', () => {
    const a = strongGeneralizationSplit(fixture(), 7, { heldOutUsers: 0.1, foldIn: 0.8 });
    const b = strongGeneralizationSplit(fixture(), 7, { heldOutUsers: 0.1, foldIn: 0.8 });
    expect(b.test.userIds).toEqual(a.test.userIds);
    expect(Array.from(b.test.heldOut.indices)).toEqual(Array.from(a.test.heldOut.indices));
  });
});

describe(userRandomSplit.name, () => {
  it('cuts every user by the fractions and scores test from train + validation', () => {
    const sut = userRandomSplit(fixture(), 3, [0.6, 0.2, 0.2]);
    for (let r = 0; r < 40; r++) {
      expect([rowLength(sut.train, r), rowLength(sut.validation!.heldOut, r), rowLength(sut.test.heldOut, r)]).toEqual([
        6, 2, 2,
      ]);
      expect(rowLength(sut.test.input, r)).toBe(8);
    }
  });

  it('has no validation set when its fraction is 0', () => {
    expect(userRandomSplit(fixture(), 3, [0.75, 0, 0.25]).validation).toBeNull();
  });
});

describe(filterCore.name, () => {
  it('drops users and items below the thresholds until both hold', () => {
    const data = fixture();
    // an extra user with one interaction on a new item: both go
    data.users.intern('lonely');
    data.items.intern('rare');
    const sut = filterCore(
      {
        ...data,
        user: Int32Array.from([...data.user, 40]),
        item: Int32Array.from([...data.item, 30]),
        weight: Float32Array.from([...data.weight, 5]),
      },
      2,
      2,
    );
    expect([sut.users.size, sut.items.size, sut.user.length]).toEqual([40, 30, 400]);
    expect(sut.users.indexOf('lonely')).toBeUndefined();
  });
});
