/**
 * What attributing events by an earlier impression costs on ingest: the window lookup of a batch
 * (OnlineMetricsRepository.shownWithin, one statement) against storing the same-sized batch
 * (InteractionRepository.recordBatch, the work every batch does anyway), alternated in rounds on a
 * database of the bench's own with an impressions table of --impressions roll-ups. One JSON line a
 * round, then the median ratio. Half the looked-up events are of pairs shown. No Redis is used.
 * npm run bench:attribution [-- --batch 10000 --rounds 6 --users 20000 --items 5000 --impressions 200000]
 */
import {
  createDataSource,
  ImpressionRepository,
  InteractionRepository,
  OnlineMetricsRepository,
  weekOf,
} from '@app/database';
import { createRng } from '@app/random';
import { parseFlags, runCli, UsageError } from '../scripts/cli';
import { emit, freshDatabase } from './lib/api-process';

const HOUR_MS = 3_600_000;

runCli(async (args) => {
  const flags = parseFlags(args, ['batch', 'rounds', 'users', 'items', 'impressions']);
  const batch = Number(flags.batch ?? 10_000);
  const rounds = Number(flags.rounds ?? 6);
  const users = Number(flags.users ?? 20_000);
  const items = Number(flags.items ?? 5_000);
  const stored = Number(flags.impressions ?? 200_000);
  for (const [name, value] of Object.entries({ batch, rounds, users, items, stored }))
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);

  const ds = createDataSource(await freshDatabase('recoder_bench_attribution'));
  await ds.initialize();
  try {
    const interactions = new InteractionRepository(ds);
    const impressions = new ImpressionRepository(ds);
    const sut = new OnlineMetricsRepository(ds);
    const rng = createRng(11);
    const pick = (n: number) => Math.floor(rng.next() * n);
    const now = Date.now();
    // impressions of the last hour: the lookups below find about their share of the pairs
    const shown = new Map<
      string,
      { userId: string; itemId: string; week: string; shows: number; firstShown: Date; lastShown: Date }
    >();
    while (shown.size < stored) {
      const userId = `u${pick(users)}`;
      const itemId = `i${pick(items)}`;
      const at = new Date(now - pick(HOUR_MS));
      shown.set(`${userId} ${itemId}`, { userId, itemId, week: weekOf(at), shows: 1, firstShown: at, lastShown: at });
    }
    // users and items first (as their events would have created them), then the roll-ups
    const catalogue = Array.from({ length: Math.max(users, items) }, (_, k) => ({
      userId: `u${k % users}`,
      itemId: `i${k % items}`,
      type: 'view',
      weight: 1,
      occurredAt: new Date(now - 2 * HOUR_MS),
      eventId: `seed-${k}`,
    }));
    await interactions.recordBatch(catalogue);
    const rows = [...shown.values()];
    for (let start = 0; start < rows.length; start += 10_000) await impressions.add(rows.slice(start, start + 10_000));

    const events = (round: number) =>
      Array.from({ length: batch }, (_, j) => ({
        userId: `u${pick(users)}`,
        itemId: `i${pick(items)}`,
        type: 'click',
        weight: 1,
        occurredAt: new Date(now - pick(HOUR_MS / 2)),
        eventId: `bench-${round}-${j}`,
      }));
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const toStore = events(round);
      // half of the looked-up events are of pairs shown (clicks on what was seen), half of others
      const toLook = events(-round).map((e, j) => {
        const pair = j % 2 === 0 ? rows[pick(rows.length)] : e;
        return { userId: pair.userId, itemId: pair.itemId, at: e.occurredAt };
      });
      let t = performance.now();
      await interactions.recordBatch(toStore);
      const storeMs = performance.now() - t;
      t = performance.now();
      const found = await sut.shownWithin(toLook, HOUR_MS);
      const lookupMs = performance.now() - t;
      ratios.push(lookupMs / storeMs);
      emit({
        bench: 'attribution',
        round,
        batch,
        storeMs: Math.round(storeMs),
        lookupMs: Math.round(lookupMs),
        attributed: found.filter(Boolean).length,
        ratio: Math.round((lookupMs / storeMs) * 1000) / 1000,
      });
    }
    ratios.sort((a, b) => a - b);
    emit({
      bench: 'attribution',
      summary: true,
      batch,
      impressions: stored,
      medianRatio: Math.round(ratios[Math.floor(ratios.length / 2)] * 1000) / 1000,
    });
  } finally {
    await ds.destroy();
  }
  return undefined;
});
