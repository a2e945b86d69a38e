interface Waiter<V> {
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

/**
 * Lookups asked for in the same turn of the event loop go out as one call of `load` (the
 * DataLoader pattern): concurrent requests cost one round trip (and one socket write), not one each.
 * The dataloader package does the same only once told to (its default batch is one tick of promise
 * jobs, a single request's lookups, and it caches every key, while an embedding changes): with
 * batchScheduleFn setImmediate and cache off, it would be a dependency for these forty lines.
 */
export class TickBatcher<K, V> {
  private pending = new Map<K, Waiter<V>[]>();
  private scheduled = false;

  constructor(
    private readonly load: (keys: K[]) => Promise<Map<K, V>>,
    /** The answer for a key `load` leaves out. */
    private readonly absent: V,
  ) {}

  get(key: K): Promise<V> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    try {
      const found = await this.load([...batch.keys()]);
      for (const [key, waiters] of batch) {
        const value = found.has(key) ? found.get(key)! : this.absent;
        waiters.forEach((w) => w.resolve(value));
      }
    } catch (err) {
      for (const waiters of batch.values()) waiters.forEach((w) => w.reject(err));
    }
  }
}
