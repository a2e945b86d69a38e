import { FeedbackRole } from './roles';
import { FeedbackFileError, MAX_CONDITIONS, parseRulesFile, ruleProblem } from './rule-checks';

const { POSITIVE, NEGATIVE, IGNORED } = FeedbackRole;

describe(ruleProblem.name, () => {
  const ok = { type: 'rating', role: IGNORED, weight: 1, conditions: [{ role: POSITIVE, min: 4, max: null }] };

  it('accepts a well-formed rule', () => {
    expect(ruleProblem(ok)).toBeNull();
  });

  it.each([
    [{ type: ' ' }, 'type: must not be empty'],
    [{ type: 'a\nb' }, 'type: must not contain a line break'],
    [{ role: 'LIKE' }, 'role: must be one of POSITIVE, NEGATIVE, IMPRESSION, IGNORED'],
    [{ weight: 0 }, 'weight: must be above 0 and at most 1000000'],
    [{ weight: Number.NaN }, 'weight: must be above 0'],
    [{ conditions: [{ role: NEGATIVE, min: null, max: null }] }, 'conditions[0].min: give min, max or both'],
    [{ conditions: [{ role: NEGATIVE, min: 3, max: 2 }] }, 'conditions[0].max: must not be below min'],
    [{ conditions: [{ role: NEGATIVE, min: 1e9, max: null }] }, 'conditions[0].min: must be 0 or between'],
    [{ conditions: Array(MAX_CONDITIONS + 1).fill(ok.conditions[0]) }, 'conditions: must hold at most 8'],
  ])('refuses %j with "%s"', (change, message) => {
    expect(ruleProblem({ ...ok, ...change } as never)).toContain(message);
  });
});

describe(parseRulesFile.name, () => {
  it('reads types with their defaults (weight 1, no conditions)', () => {
    const text = JSON.stringify({
      types: [
        { type: 'purchase', role: 'POSITIVE', weight: 3 },
        {
          type: 'rating',
          role: 'IGNORED',
          conditions: [
            { role: 'POSITIVE', min: 4 },
            { role: 'NEGATIVE', max: 2 },
          ],
        },
      ],
    });
    expect(parseRulesFile(text)).toEqual([
      { type: 'purchase', role: POSITIVE, weight: 3, conditions: [] },
      {
        type: 'rating',
        role: IGNORED,
        weight: 1,
        conditions: [
          { role: POSITIVE, min: 4, max: null },
          { role: NEGATIVE, min: null, max: 2 },
        ],
      },
    ]);
  });

  it.each([
    ['{', /^not JSON/],
    ['[]', /must be an object with a "types" list/],
    ['{"types": [], "strict": true}', /^strict: unknown key/],
    ['{"types": [{"type": "a", "role": "POSITIVE", "weigth": 2}]}', /^types\[0\]\.weigth: unknown key/],
    ['{"types": [{"type": "a", "role": "MAYBE"}]}', /^types\[0\]\.role: must be one of/],
    [
      '{"types": [{"type": "a", "role": "IGNORED", "conditions": [{"role": "NEGATIVE"}]}]}',
      /^types\[0\]\.conditions\[0\]\.min/,
    ],
    [
      '{"types": [{"type": "a", "role": "POSITIVE"}, {"type": "a", "role": "NEGATIVE"}]}',
      /^types\[1\]\.type: "a" is declared twice/,
    ],
  ])('names the problem of %s', (text, message) => {
    expect(() => parseRulesFile(text)).toThrow(FeedbackFileError);
    expect(() => parseRulesFile(text)).toThrow(message);
  });
});
