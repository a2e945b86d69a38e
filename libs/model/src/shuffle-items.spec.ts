import { shuffleItemsPerUser } from './shuffle-items';

describe(shuffleItemsPerUser.name, () => {
  const user = Int32Array.from([0, 0, 0, 1, 1, 2]);
  const item = Int32Array.from([0, 1, 2, 0, 1, 0]);

  it("keeps each user's item count and distinct items, seeded", () => {
    const sut = shuffleItemsPerUser(user, item, 3, 50, 7);
    expect(sut).toEqual(shuffleItemsPerUser(user, item, 3, 50, 7));
    for (const u of [0, 1, 2]) {
      const mine = [...sut].filter((_, k) => user[k] === u);
      expect(new Set(mine).size).toBe([...user].filter((x) => x === u).length);
      expect(mine.every((i) => i >= 0 && i < 50)).toBe(true);
    }
  });

  it('moves users apart: users who chose the same item end up on different ones', () => {
    const many = Int32Array.from({ length: 200 }, (_, u) => u);
    const same = new Int32Array(200); // all chose item 0
    const sut = shuffleItemsPerUser(many, same, 200, 1000, 1);
    // 200 draws from 1000 offsets: at least 150 distinct items
    expect(new Set(sut).size).toBeGreaterThan(150);
  });
});
