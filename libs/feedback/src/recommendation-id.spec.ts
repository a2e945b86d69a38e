import {
  RecommendationIdCodec,
  RecommendationIdError,
  RecommendationIdProblem,
  RecommendationSurface,
} from './recommendation-id';

describe(RecommendationIdCodec.name, () => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef');
  const sut = new RecommendationIdCodec(secret, 3600);
  const issuedAt = 1_800_000_000;
  const items = Array.from({ length: 20 }, (_, i) => `item-${i}`);
  const claims = { surface: RecommendationSurface.USER, modelVersion: 7, userId: 'u42', issuedAt };

  const problemOf = (fn: () => unknown): RecommendationIdProblem | null => {
    try {
      fn();
      return null;
    } catch (err) {
      if (err instanceof RecommendationIdError) return err.problem;
      throw err;
    }
  };

  it('gives back what it signed, and every item of the answer is in it', () => {
    const token = sut.sign(claims, items);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const read = sut.verify(token, issuedAt + 10);
    expect(read).toMatchObject({ surface: RecommendationSurface.USER, modelVersion: 7, userId: 'u42', issuedAt });
    expect(items.every((id) => read.items.has(id))).toBe(true);
  });

  it('is compact: 20 items and a short user id in under 80 characters', () => {
    expect(sut.sign(claims, items).length).toBeLessThan(80);
  });

  it('tells items that were not in the answer apart, but for about 1%', () => {
    const read = sut.verify(sut.sign(claims, items), issuedAt);
    const others = Array.from({ length: 10_000 }, (_, i) => `other-${i}`);
    const passing = others.filter((id) => read.items.has(id)).length;
    expect(passing / others.length).toBeLessThan(0.03);
  });

  it('keeps a missing user and a missing model apart from real ones', () => {
    const token = sut.sign({ ...claims, surface: RecommendationSurface.SIMILAR, userId: null, modelVersion: null }, []);
    const read = sut.verify(token, issuedAt);
    expect(read).toMatchObject({ surface: RecommendationSurface.SIMILAR, userId: null, modelVersion: null });
    expect(read.items.has('item-0')).toBe(false);
  });

  it('carries ids of any characters', () => {
    const read = sut.verify(sut.sign({ ...claims, userId: 'ü:{x}/ 1' }, ['é']), issuedAt);
    expect(read.userId).toBe('ü:{x}/ 1');
    expect(read.items.has('é')).toBe(true);
  });

  it('rejects an id after its time to live', () => {
    const token = sut.sign(claims, items);
    expect(problemOf(() => sut.verify(token, issuedAt + 3600))).toBeNull();
    expect(problemOf(() => sut.verify(token, issuedAt + 3601))).toBe(RecommendationIdProblem.Expired);
  });

  it('rejects any change to the id', () => {
    const token = sut.sign(claims, items);
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const changed = Buffer.from(raw);
      changed[i] ^= 0x01;
      expect(problemOf(() => sut.verify(changed.toString('base64url'), issuedAt))).toBe(
        RecommendationIdProblem.Tampered,
      );
    }
  });

  it("rejects another server's id, and text that is no id", () => {
    const other = new RecommendationIdCodec(Buffer.from('another secret of at least 32 bytes!!'), 3600);
    expect(problemOf(() => sut.verify(other.sign(claims, items), issuedAt))).toBe(RecommendationIdProblem.Tampered);
    expect(problemOf(() => sut.verify('', issuedAt))).toBe(RecommendationIdProblem.Malformed);
    expect(problemOf(() => sut.verify('not a token!', issuedAt))).toBe(RecommendationIdProblem.Malformed);
    expect(problemOf(() => sut.verify('abc', issuedAt))).toBe(RecommendationIdProblem.Malformed);
  });
});
