import { Logger } from '@nestjs/common';
import { RollupBuffer } from './rollup-buffer';

interface Count {
  key: string;
  count: number;
}

/** A buffer of counters whose store is an array, failing while `down` is set. */
function counters(options: { flushRows?: number; maxRows?: number } = {}) {
  const stored: Count[][] = [];
  const warnings: string[] = [];
  const state = { down: false };
  const logger = new Logger('test');
  jest.spyOn(logger, 'warn').mockImplementation((message: string) => void warnings.push(message));
  const buffer = new RollupBuffer<Count>({
    names: { rows: 'counters', dropped: 'counts' },
    merge: (into, from) => void (into.count += from.count),
    write: (rows) => {
      if (state.down) return Promise.reject(new Error('connection refused'));
      stored.push(rows.map((r) => ({ ...r })));
      return Promise.resolve();
    },
    flushMs: 60_000,
    maxRows: options.maxRows ?? 1000,
    flushRows: options.flushRows,
    logger,
  });
  const add = (key: string, count = 1) => buffer.add(key, { key, count }, count);
  return { buffer, stored, warnings, state, add };
}

describe('RollupBuffer', () => {
  it('rolls repeats of a key into one row and writes them in one batch', async () => {
    const { buffer, stored, add } = counters();
    add('a');
    add('a', 2);
    add('b');
    expect(buffer.held).toBe(2);
    await buffer.flush();
    expect(stored).toEqual([
      [
        { key: 'a', count: 3 },
        { key: 'b', count: 1 },
      ],
    ]);
    expect(buffer.held).toBe(0);
  });

  it('keeps a failed batch, merged with what came meanwhile, for the next write', async () => {
    const { buffer, stored, warnings, state, add } = counters();
    add('a', 2);
    state.down = true;
    await buffer.flush();
    expect(warnings[0]).toMatch(/^1 counters not written, kept for the next flush: connection refused/);
    add('a', 5);
    add('c');
    state.down = false;
    await buffer.flush();
    expect(stored).toEqual([
      [
        { key: 'a', count: 7 },
        { key: 'c', count: 1 },
      ],
    ]);
  });

  it('drops what comes beyond maxRows while the store is down, and says how much once it is back', async () => {
    const { buffer, stored, warnings, state, add } = counters({ maxRows: 2 });
    state.down = true;
    expect([add('a'), add('b'), add('c', 4), add('a')]).toEqual([true, true, false, true]);
    await buffer.flush();
    state.down = false;
    await buffer.flush();
    expect(stored[0]).toEqual([
      { key: 'a', count: 2 },
      { key: 'b', count: 1 },
    ]);
    expect(warnings).toContain('4 counts dropped while Postgres was unreachable (the buffer was full)');
  });

  it('starts a write once flushRows are held, without waiting for the timer', async () => {
    const { buffer, stored, add } = counters({ flushRows: 3 });
    add('a');
    add('b');
    expect(stored).toHaveLength(0);
    add('c');
    await buffer.flush(); // waits for the write the third row started
    expect(stored).toEqual([
      [
        { key: 'a', count: 1 },
        { key: 'b', count: 1 },
        { key: 'c', count: 1 },
      ],
    ]);
  });

  it('writes what is held when stopped', async () => {
    const { buffer, stored, add } = counters();
    add('z', 9);
    await buffer.stop();
    expect(stored).toEqual([[{ key: 'z', count: 9 }]]);
  });
});
