import { exposedItems, ShowsOfItem, stillExposed } from './exposure';

const DAY = 86_400_000;
const policy = { maxShows: 3, cooldownMs: 7 * DAY };
const t0 = Date.UTC(2026, 11, 7);
const at = (days: number) => new Date(t0 + days * DAY);
const row = (item: string, shows: number, first: number, last = first): ShowsOfItem => ({
  item,
  shows,
  firstShown: at(first),
  lastShown: at(last),
});

describe(exposedItems.name, () => {
  it('hides an item shown 3 times without engagement, until a cooldown after its last show', () => {
    const shows = [row('a', 2, 0, 1), row('a', 1, 2), row('b', 2, 0, 2)];
    expect(exposedItems(shows, new Map(), policy, t0 + 3 * DAY)).toEqual([['a', t0 + 9 * DAY]]);
    expect(exposedItems(shows, new Map(), policy, t0 + 9 * DAY)).toEqual([]);
  });

  it('a POSITIVE event after the shows resets the count; one before them does not', () => {
    const shows = [row('a', 3, 0, 2)];
    expect(exposedItems(shows, new Map([['a', t0 + 2.5 * DAY]]), policy, t0 + 3 * DAY)).toEqual([]);
    expect(exposedItems(shows, new Map([['a', t0 - DAY]]), policy, t0 + 3 * DAY)).toHaveLength(1);
    // shows after the POSITIVE event count again: a roll-up straddling it counts once
    const later = [row('a', 3, 0, 4), row('a', 2, 5, 6)];
    expect(exposedItems(later, new Map([['a', t0 + 3 * DAY]]), policy, t0 + 7 * DAY)).toEqual([['a', t0 + 13 * DAY]]);
    expect(
      exposedItems([row('a', 3, 0, 4), row('a', 1, 5)], new Map([['a', t0 + 3 * DAY]]), policy, t0 + 6 * DAY),
    ).toEqual([]);
  });

  it('after a cooldown an item gets a fresh count: older shows no longer add up', () => {
    const shows = [row('a', 3, 0, 1), row('a', 1, 10)];
    expect(exposedItems(shows, new Map(), policy, t0 + 10.5 * DAY)).toEqual([]);
    expect(exposedItems([...shows, row('a', 2, 11, 12)], new Map(), policy, t0 + 12.5 * DAY)).toEqual([
      ['a', t0 + 19 * DAY],
    ]);
  });

  it('is off with maxShows 0', () => {
    expect(exposedItems([row('a', 10, 0)], new Map(), { ...policy, maxShows: 0 }, t0)).toEqual([]);
  });

  it('a stored list keeps only what is still hidden', () => {
    expect(
      stillExposed(
        [
          ['a', t0 + 1],
          ['b', t0 - 1],
        ],
        t0,
      ),
    ).toEqual(['a']);
  });
});
