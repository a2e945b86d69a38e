/**
 * What the API's request thread pays for its in-memory catalogue at a large catalogue: loading
 * it, reloading it (every CATALOGUE_MAX_AGE_MS, and after items or counts change), and aligning it
 * with a model's items on the first answer after either. The longest event-loop delay during
 * each is what a request in flight then waits out. JSON lines:
 *   catalogue_idle     the event loop's delay with nothing to do: the floor
 *   catalogue_load     the first load: wall seconds, the longest delay, heap after it
 *   catalogue_reload   a reload while the old snapshot serves
 *   catalogue_answer   the first answer with a model (its items in another order), the next one, and the
 *                      longest delay in the 1.5 s after them (the alignment built in the background)
 * npm run bench:catalogue [-- --database recoder_bench_scale --rounds 3]
 * The database must hold a catalogue whose popularity a training has stored (bench:scale's does).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CatalogueRepository, createDataSource } from '@app/database';
import { CatalogueService } from '../apps/api/src/recommendations/catalogue.service';
import { LiveModel } from '../apps/api/src/recommendations/live-model.service';
import { CandidateRules } from '../apps/api/src/recommendations/sources/candidates';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { emit } from './lib/api-process';

/** The event loop's longest and 99th-percentile delay while `work` runs (10 ms resolution). */
async function delays<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; max_ms: number; p99_ms: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const start = performance.now();
  const value = await work();
  const ms = performance.now() - start;
  histogram.disable();
  return {
    value,
    ms: Math.round(ms),
    max_ms: Math.round(histogram.max / 1e6),
    p99_ms: Math.round(histogram.percentile(99) / 1e6),
  };
}

const heapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
};

runCli(async (args) => {
  const flags = parseFlags(args, ['database', 'rounds']);
  const database = flags.database ?? 'recoder_bench_scale';
  const rounds = Number(flags.rounds ?? 3);
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new UsageError('--rounds must be a positive integer');
  const ds = createDataSource(`postgres://postgres@127.0.0.1:5432/${database}`);
  await ds.initialize();
  try {
    const repository = new CatalogueRepository(ds);
    if ((await repository.fingerprint()) === null)
      throw new UsageError(`${database} has no stored popularity: run bench:scale --setup-only first`);
    const idle = await delays(() => sleep(2000));
    emit({ bench: 'catalogue_idle', max_ms: idle.max_ms, p99_ms: idle.p99_ms });
    const heapBefore = heapMb();
    const service = new CatalogueService(repository);
    const first = await delays(() => service.get());
    const catalogue = first.value;
    const ids = catalogue.popular.map((item) => item.id);
    emit({
      bench: 'catalogue_load',
      database,
      items: ids.length,
      seconds: +(first.ms / 1000).toFixed(2),
      max_ms: first.max_ms,
      p99_ms: first.p99_ms,
      heap_mb: heapMb() - heapBefore,
    });
    // a model's items: the catalogue's, in another order (a model's order is its training's)
    const itemIds = ids.slice().reverse();
    const live = { itemIds, itemIndex: new Map(itemIds.map((id, i) => [id, i])) } as unknown as LiveModel;
    const list = { items: Int32Array.from({ length: 100 }, (_, r) => r * 7), scores: new Float32Array(100) };
    const rules = new CandidateRules();
    for (let round = 0; round < rounds; round++) {
      service.invalidate();
      const reload = await delays(() => service.get());
      emit({
        bench: 'catalogue_reload',
        round,
        items: ids.length,
        seconds: +(reload.ms / 1000).toFixed(2),
        max_ms: reload.max_ms,
        p99_ms: reload.p99_ms,
      });
      const answer = async () => rules.of(live, await service.get(), undefined).fromList(list, 100, 20);
      const aligned = await delays(answer);
      const next = await delays(answer);
      // the alignment's slices, after the first answer: the longest delay they cause
      const slices = await delays(() => sleep(1500));
      emit({
        bench: 'catalogue_answer',
        round,
        first_ms: aligned.ms,
        next_ms: next.ms,
        after_max_ms: slices.max_ms,
        after_p99_ms: slices.p99_ms,
      });
    }
    return undefined;
  } finally {
    await ds.destroy();
  }
});
