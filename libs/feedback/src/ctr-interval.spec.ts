import { createRng } from '@app/random';
import { armCtr, ctrDifference, UserClicks } from './ctr-interval';

describe('CTR intervals', () => {
  it('is clicks over items shown, its error shrinking with more users', () => {
    const sut = armCtr([
      { shown: 10, clicks: 2 },
      { shown: 10, clicks: 4 },
    ]);
    expect(sut).toMatchObject({ users: 2, shown: 20, clicks: 6, ctr: 0.3 });
    // residuals -1 and 1: sqrt(2/1 * 2) / 20
    expect(sut.se).toBeCloseTo(0.1, 10);
  });

  /** Users whose own click rate varies around `rate`: clicks within a user are correlated. */
  const arm = (seed: number, rate: number, users: number): UserClicks[] => {
    const rng = createRng(seed);
    return Array.from({ length: users }, () => {
      const own = Math.min(1, Math.max(0, rate + 0.2 * rng.normal()));
      let clicks = 0;
      for (let k = 0; k < 10; k++) if (rng.next() < own) clicks++;
      return { shown: 10, clicks };
    });
  };

  it('covers the true difference about 95% of the time, users varying', () => {
    let covered = 0;
    for (let trial = 0; trial < 400; trial++) {
      const { low, high } = ctrDifference(armCtr(arm(2 * trial, 0.3, 200)), armCtr(arm(2 * trial + 1, 0.3, 200)));
      if (low <= 0 && 0 <= high) covered++;
    }
    // 400 trials at 95%: the binomial standard error is 1.1 points
    expect(covered / 400).toBeGreaterThan(0.91);
    expect(covered / 400).toBeLessThan(0.99);
  });

  it('excludes zero when one arm clicks clearly more', () => {
    const { difference, low } = ctrDifference(armCtr(arm(1, 0.4, 300)), armCtr(arm(2, 0.3, 300)));
    expect(difference).toBeGreaterThan(0.05);
    expect(low).toBeGreaterThan(0);
  });
});
