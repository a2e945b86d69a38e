import { FeedbackRole, FeedbackRules, FeedbackTypeRule, roleOf } from './roles';
import { inputValue, NO_DECAY, retentionStart } from './training-input';
import { userFeedback } from './user-feedback';

const { POSITIVE, NEGATIVE, IMPRESSION, IGNORED } = FeedbackRole;
const DAY = 24 * 60 * 60 * 1000;

const rating: FeedbackTypeRule = {
  type: 'rating',
  role: IGNORED,
  weight: 1,
  conditions: [
    { role: POSITIVE, min: 4, max: null },
    { role: NEGATIVE, min: null, max: 2 },
  ],
};
const purchase: FeedbackTypeRule = { type: 'purchase', role: POSITIVE, weight: 3, conditions: [] };
const dislike: FeedbackTypeRule = { type: 'dislike', role: NEGATIVE, weight: 1, conditions: [] };
const shown: FeedbackTypeRule = { type: 'shown', role: IMPRESSION, weight: 1, conditions: [] };
const rules = new FeedbackRules([rating, purchase, dislike, shown], 7);

describe(roleOf.name, () => {
  it("gives the first condition the value meets, else the type's role; an undeclared type is POSITIVE", () => {
    expect([1, 2, 2.5, 3, 3.99, 4, 5].map((v) => rules.roleOf('rating', v))).toEqual([
      NEGATIVE,
      NEGATIVE,
      IGNORED,
      IGNORED,
      IGNORED,
      POSITIVE,
      POSITIVE,
    ]);
    expect(rules.roleOf('dislike', 5)).toBe(NEGATIVE);
    expect(rules.roleOf('shown', 1)).toBe(IMPRESSION);
    expect(rules.roleOf('view', -3)).toBe(POSITIVE);
    expect(rules.declares('view')).toBe(false);
    expect(rules.valueDependentTypes()).toEqual(['rating']);
  });

  it('compares values as Postgres stores them (float4), so a bound meets the value it was written as', () => {
    const rule = { role: IGNORED, weight: 1, conditions: [{ role: POSITIVE, min: 4.1, max: null }] };
    // 4.1 read back from a real column is 4.099999904632568, below the bound as a double
    expect(roleOf(rule, Math.fround(4.1))).toBe(POSITIVE);
    expect(roleOf(rule, 4.1)).toBe(POSITIVE);
    expect(roleOf(rule, 4.0999)).toBe(IGNORED);
  });
});

describe(inputValue.name, () => {
  const now = Date.UTC(2024, 5, 1);

  it("puts a POSITIVE event in as its type's weight times its own, and nothing else in", () => {
    expect(inputValue(purchase, 1, now, now, NO_DECAY)).toBe(3);
    expect(inputValue(purchase, 2, now, now, NO_DECAY)).toBe(6);
    expect(inputValue(undefined, 1, now, now, NO_DECAY)).toBe(1);
    expect(inputValue(rating, 5, now, now, NO_DECAY)).toBe(5);
    for (const [rule, value] of [
      [rating, 3],
      [rating, 1],
      [dislike, 1],
      [shown, 1],
    ] as const)
      expect(inputValue(rule, value, now, now, NO_DECAY)).toBeNull();
  });

  it('halves a value every half-life of age, and drops events older than the retention window', () => {
    const settings = { halfLifeDays: 10, retentionDays: 30 };
    expect(inputValue(purchase, 1, now, now, settings)).toBe(3);
    expect(inputValue(purchase, 1, now - 10 * DAY, now, settings)).toBeCloseTo(1.5, 10);
    expect(inputValue(purchase, 1, now - 20 * DAY, now, settings)).toBeCloseTo(0.75, 10);
    expect(inputValue(purchase, 1, now - 30 * DAY, now, settings)).toBeCloseTo(3 / 8, 10);
    expect(inputValue(purchase, 1, now - 30 * DAY - 1, now, settings)).toBeNull();
    // an event dated ahead of the clock is not worth more than a fresh one
    expect(inputValue(purchase, 1, now + DAY, now, settings)).toBe(3);
    expect(retentionStart(now, settings)!.getTime()).toBe(now - 30 * DAY);
    expect(retentionStart(now, NO_DECAY)).toBeNull();
  });
});

describe(userFeedback.name, () => {
  const at = (day: number) => new Date(Date.UTC(2024, 0, day));
  const now = at(31).getTime();

  it("keeps a user's POSITIVE items with their largest value, and hides what a NEGATIVE event last said", () => {
    const read = userFeedback(
      [
        { item: 'a', type: 'view', value: 1, newest: at(1) },
        { item: 'a', type: 'purchase', value: 1, newest: at(2) },
        { item: 'b', type: 'rating', value: 5, newest: at(3) },
        { item: 'b', type: 'rating', value: 1, newest: at(4) },
        { item: 'c', type: 'dislike', value: 1, newest: at(5) },
        { item: 'c', type: 'view', value: 1, newest: at(6) },
        { item: 'd', type: 'view', value: 1, newest: at(7) },
        { item: 'd', type: 'dislike', value: 1, newest: at(7) },
        { item: 'e', type: 'shown', value: 1, newest: at(9) },
        { item: 'f', type: 'rating', value: 3, newest: at(8) },
      ],
      rules,
      NO_DECAY,
      now,
    );
    expect(Object.fromEntries(read.input)).toEqual({ a: 3, b: 5, c: 1, d: 1 });
    // b: rated 1 after its 5; c: viewed after the dislike (lifted); d: a view at the same instant does not lift
    expect(read.hidden.sort()).toEqual(['b', 'd']);
    expect(read.newest).toEqual(at(9));
  });

  it('ages the input as a training does, and keeps hiding whatever the retention window', () => {
    const read = userFeedback(
      [
        { item: 'old', type: 'view', value: 1, newest: at(1) },
        { item: 'new', type: 'view', value: 1, newest: at(21) },
        { item: 'gone', type: 'dislike', value: 1, newest: at(1) },
      ],
      rules,
      { halfLifeDays: 10, retentionDays: 20 },
      now,
    );
    expect([...read.input.keys()]).toEqual(['new']);
    expect(read.input.get('new')).toBeCloseTo(0.5, 10);
    expect(read.hidden).toEqual(['gone']);
  });
});
