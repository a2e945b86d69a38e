import { createRng } from '@app/random';
import { attributedVersion, hourOf, METRIC_UNITS, metricUnit, NO_MODEL_VERSION } from './attribution';
import { armCtr, ctrDifference } from './ctr-interval';
import { RecommendationIdCodec, RecommendationSurface } from './recommendation-id';

describe('attribution', () => {
  const codec = new RecommendationIdCodec(Buffer.alloc(32, 7), 3600);
  const claimsOf = (userId: string | null, modelVersion: number | null, items: string[]) =>
    codec.verify(
      codec.sign(
        { surface: RecommendationSurface.USER, userId, modelVersion, issuedAt: Math.floor(Date.now() / 1000) },
        items,
      ),
    );

  it("attributes an event to its answer's version only when the answer was for its user and held its item", () => {
    const claims = claimsOf('u1', 4, ['i1', 'i2', 'i3']);
    expect(attributedVersion(claims, 'u1', 'i2')).toBe(4);
    expect(attributedVersion(claims, 'u2', 'i2')).toBeNull();
    expect(attributedVersion(claims, 'u1', 'i9')).toBeNull();
    // an answer no model scored, and an anonymous one
    expect(attributedVersion(claimsOf('u1', null, ['i1']), 'u1', 'i1')).toBe(NO_MODEL_VERSION);
    expect(attributedVersion(claimsOf(null, 2, ['i1']), 'u7', 'i1')).toBe(2);
  });

  it('puts a user in one unit always, and spreads users over every unit', () => {
    expect(metricUnit('u1')).toBe(metricUnit('u1'));
    const counts = new Array<number>(METRIC_UNITS).fill(0);
    for (let u = 0; u < 6400; u++) counts[metricUnit(`u${u}`)]++;
    // 100 expected per unit: none empty, none far off
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(150);
  });

  it('buckets by the UTC hour', () => {
    expect(hourOf(new Date('2026-03-01T10:59:59.999Z')).toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(hourOf(new Date('2026-03-01T11:00:00.000Z')).toISOString()).toBe('2026-03-01T11:00:00.000Z');
  });

  /** Users with their own click rate around `rate`, summed into their units as the roll-up stores them. */
  const armByUnit = (seed: number, rate: number, users: number) => {
    const rng = createRng(seed);
    const units = Array.from({ length: METRIC_UNITS }, () => ({ shown: 0, clicks: 0 }));
    for (let u = 0; u < users; u++) {
      const own = Math.min(1, Math.max(0, rate + 0.2 * rng.normal()));
      const unit = units[metricUnit(`s${seed}-u${u}`)];
      for (let k = 0; k < 10; k++) {
        unit.shown++;
        if (rng.next() < own) unit.clicks++;
      }
    }
    return armCtr(units.filter((x) => x.shown > 0));
  };

  it("the interval over units covers the true difference about 95% of the time, users' rates varying", () => {
    let covered = 0;
    for (let trial = 0; trial < 400; trial++) {
      const { low, high } = ctrDifference(armByUnit(2 * trial, 0.3, 400), armByUnit(2 * trial + 1, 0.3, 400));
      if (low <= 0 && 0 <= high) covered++;
    }
    // 400 trials at 95%: the binomial standard error is 1.1 points
    expect(covered / 400).toBeGreaterThan(0.91);
    expect(covered / 400).toBeLessThan(0.99);
  });
});
