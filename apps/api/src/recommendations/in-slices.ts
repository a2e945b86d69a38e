/** Indices a slice covers before the request thread serves again: 5-15 ms of lookups at 1M items. */
export const SLICE = 8192;

/**
 * Calls `each(start, end)` for consecutive slices of SLICE indices in [0, count), yielding to the
 * event loop before every slice (the caller's turn ends first): at 1M items, one pass at once held
 * the request thread for 0.5-1 s (bench:catalogue), a stall every request in flight waited out.
 */
export async function inSlices(count: number, each: (start: number, end: number) => void): Promise<void> {
  for (let start = 0; start < count; start += SLICE) {
    await new Promise(setImmediate);
    each(start, Math.min(count, start + SLICE));
  }
}
