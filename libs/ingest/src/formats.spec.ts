import { InteractionParseError, parseInteractionLine, parseTimestamp } from './formats';

describe(parseInteractionLine.name, () => {
  it('reads MovieLens 100k (tab separated, unix seconds)', () => {
    expect(parseInteractionLine('movielens-100k', '196\t242\t3\t881250949', 1)).toEqual({
      user: '196',
      item: '242',
      weight: 3,
      occurredAtMs: 881250949000,
    });
  });

  it('reads MovieLens 1M (:: separated)', () => {
    expect(parseInteractionLine('movielens-1m', '1::1193::5::978300760', 1)).toMatchObject({
      user: '1',
      item: '1193',
      weight: 5,
    });
  });

  it('reads csv with CRLF, optional weight and ISO timestamps', () => {
    expect(parseInteractionLine('csv', '1,31,2.5,1260759144\r', 2)).toEqual({
      user: '1',
      item: '31',
      weight: 2.5,
      occurredAtMs: 1260759144000,
    });
    expect(parseInteractionLine('csv', 'u1,i9', 3)).toEqual({ user: 'u1', item: 'i9', weight: 1, occurredAtMs: null });
    expect(parseInteractionLine('csv', 'u1,i9,1,2024-05-01T10:00:00Z', 4)?.occurredAtMs).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseInteractionLine('csv', '"a,b",i9', 5)?.user).toBe('a,b');
  });

  it('skips blank lines', () => {
    expect(parseInteractionLine('csv', '\r', 7)).toBeNull();
  });

  it.each([
    ['1,2,abc', /line 12: weight "abc"/],
    ['1,2,Infinity', /weight/],
    [',2', /user must not be empty/],
    ['1', /expected 2 to 4 fields/],
    ['1,2,1,yesterday', /timestamp "yesterday"/],
  ])('rejects %j naming the line and field', (line, message) => {
    expect(() => parseInteractionLine('csv', line, 12)).toThrow(InteractionParseError);
    expect(() => parseInteractionLine('csv', line, 12)).toThrow(message);
  });

  it('rejects a timestamp in milliseconds rather than guessing', () => {
    expect(() => parseTimestamp('1700000000000', 1)).toThrow(/must not be more than a day in the future/);
  });
});
