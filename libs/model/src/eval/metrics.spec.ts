import { buildCsr } from '../interaction-matrix';
import { EVAL_BLOCK_SCORES, evaluateRanking, metricValue, pairedDifference } from './metrics';

describe(metricValue.name, () => {
  // ranked [3, 1, 4, 2], relevant {1, 2}: one hit in the top 3, at rank 2
  const ranked = [3, 1, 4, 2];
  const relevant = (i: number) => i === 1 || i === 2;

  it.each([
    ['recall', 3, 1 / 2],
    ['truncated-recall', 3, 1 / 2],
    ['truncated-recall', 1, 0],
    ['ndcg', 3, 1 / Math.log2(3) / (1 + 1 / Math.log2(3))],
    ['ndcg', 4, (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3))],
    ['mrr', 3, 1 / 2],
    ['hit', 3, 1],
    ['hit', 1, 0],
    ['precision', 3, 1 / 3],
  ] as const)('%s@%d', (kind, k, expected) => {
    expect(metricValue(kind, k, ranked, relevant, 2)).toBeCloseTo(expected, 10);
  });

  it('caps truncated recall by k when a user has more held-out items than k', () => {
    // 3 relevant, k = 2, both top items relevant: Liang's recall is 1, plain recall 2/3
    const all = () => true;
    expect(metricValue('truncated-recall', 2, [5, 6], all, 3)).toBe(1);
    expect(metricValue('recall', 2, [5, 6], all, 3)).toBeCloseTo(2 / 3, 10);
  });
});

describe(evaluateRanking.name, () => {
  it('excludes the input items, skips users with nothing held out and averages over the rest', () => {
    // 3 users x 4 items; scores prefer item 0, then 1, 2, 3 for everyone
    const input = buildCsr(3, 4, Int32Array.from([0, 1]), Int32Array.from([0, 0]));
    const heldOut = buildCsr(3, 4, Int32Array.from([0, 1]), Int32Array.from([1, 3]));
    const scorer = (_rows: unknown, start: number, end: number) => {
      const out = new Float32Array((end - start) * 4);
      for (let r = 0; r < end - start; r++) out.set([4, 3, 2, 1], r * 4);
      return out;
    };
    const sut = evaluateRanking(scorer, input, heldOut, [
      { name: 'hit@1', kind: 'hit', k: 1 },
      { name: 'mrr@3', kind: 'mrr', k: 3 },
    ]);
    // user 0: item 0 excluded, item 1 first: hit, mrr 1; user 1: ranking 1, 2, 3: mrr 1/3; user 2 skipped
    expect(sut['hit@1']).toBeCloseTo(0.5, 10);
    expect(sut['mrr@3']).toBeCloseTo((1 + 1 / 3) / 2, 10);
  });

  it('asks a wide catalogue for fewer rows at a time, so a score block stays within EVAL_BLOCK_SCORES', () => {
    const [users, items] = [300, 300_000];
    // every user holds out item u; the scorer ranks item u first for user u
    const input = buildCsr(users, items, new Int32Array(0), new Int32Array(0));
    const heldOut = buildCsr(
      users,
      items,
      Int32Array.from({ length: users }, (_, u) => u),
      Int32Array.from({ length: users }, (_, u) => u),
    );
    const asked: number[] = [];
    const scorer = (_rows: unknown, start: number, end: number) => {
      asked.push(end - start);
      const out = new Float32Array((end - start) * items);
      for (let r = start; r < end; r++) out[(r - start) * items + r] = 1;
      return out;
    };
    const sut = evaluateRanking(scorer, input, heldOut, [{ name: 'hit@1', kind: 'hit', k: 1 }]);
    const most = Math.floor(EVAL_BLOCK_SCORES / items);
    expect(asked).toEqual([most, users - most]);
    expect(sut['hit@1']).toBe(1);
  });
});

describe(pairedDifference.name, () => {
  it('is the mean of per-user differences with their standard error, pooled over parts', () => {
    // differences 0.2, -0.1, 0.5, 0.2: mean 0.2, sample variance ((0)^2 + 0.3^2 + 0.3^2 + 0) / 3 = 0.06
    const a = [Float64Array.of(0.5, 0.3), Float64Array.of(0.9, 0.4)];
    const b = [Float64Array.of(0.3, 0.4), Float64Array.of(0.4, 0.2)];
    const d = pairedDifference(a, b);
    expect(d.users).toBe(4);
    expect(d.mean).toBeCloseTo(0.2, 12);
    expect(d.se).toBeCloseTo(Math.sqrt(0.06 / 4), 12);
  });

  it('refuses values of different users', () => {
    expect(() => pairedDifference([Float64Array.of(1, 2)], [Float64Array.of(1)])).toThrow(RangeError);
  });
});
