import { generateSynthetic, preferenceOf } from './generate-synthetic';
import { clickProbability } from './simulated-clicks';

describe('hidden preferences and clicks', () => {
  const data = generateSynthetic({ users: 200, items: 300, seed: 3, perUser: 20 });

  it("gives each user a preference over the items that sums to 1: the generator's own draw", () => {
    for (const u of [0, 57, 199]) {
      let sum = 0;
      for (let i = 0; i < data.items; i++) sum += preferenceOf(data, u, i);
      expect(sum).toBeCloseTo(1, 9);
    }
  });

  it('clicks what a user chose more often than what others chose', () => {
    let own = 0;
    let others = 0;
    for (let k = 0; k < data.user.length; k++) {
      own += clickProbability(data, data.user[k], data.item[k]);
      // the same item, for a user from elsewhere in the population
      others += clickProbability(data, (data.user[k] + 100) % 200, data.item[k]);
    }
    expect(own / data.user.length).toBeGreaterThan(1.5 * (others / data.user.length));
  });

  it('is a probability', () => {
    for (let i = 0; i < data.items; i++) {
      const p = clickProbability(data, 5, i);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(1);
    }
  });
});
