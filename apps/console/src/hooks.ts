import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` now, again when `deps` change, and every `pollMs` while `poll` holds (a training or
 * an export under way). An answer that arrives after a newer request started is dropped.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
  { pollMs, poll }: { pollMs?: number; poll?: (data: T | null) => boolean } = {},
): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (err: Error) => {
        if (mine !== generation.current) return;
        setError(err);
        setLoading(false);
      },
    );
  }, [...deps, tick]);

  useEffect(() => {
    if (!pollMs || loading) return;
    if (poll && !poll(data)) return;
    const timer = setTimeout(reload, pollMs);
    return () => clearTimeout(timer);
  }, [data, loading, pollMs, poll, reload]);

  return { data, error, loading, reload };
}
