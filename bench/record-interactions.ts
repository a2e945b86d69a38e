/**
 * End-to-end ingestion through GraphQL: recordInteractions with 10,000 events per call, against
 * the real API process on a bench database. Prints one JSON line per concurrency level.
 * npm run bench:record [-- --batches 20 --batch-size 10000]
 */
import { generateSynthetic, INTERACTION_TYPES, syntheticItemId, syntheticUserId } from '@app/synthetic';
import { parseFlags, runCli } from '../scripts/cli';
import { emit, freshDatabase, startApi } from './lib/api-process';

const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted duplicates } }`;

runCli(async (args) => {
  const flags = parseFlags(args, ['batches', 'batch-size']);
  const batches = Number(flags.batches ?? 20);
  const batchSize = Number(flags['batch-size'] ?? 10_000);
  const data = generateSynthetic({ users: 20_000, items: 5_000, seed: 7, perUser: 40 });
  const bodies = Array.from({ length: batches * 2 }, (_, b) => {
    const input = Array.from({ length: batchSize }, (_, j) => {
      const k = (b * batchSize + j) % data.user.length;
      return {
        userId: syntheticUserId(data.user[k]),
        itemId: syntheticItemId(data.item[k]),
        type: INTERACTION_TYPES[data.type[k]],
        weight: data.weight[k],
        occurredAt: new Date((data.occurredAt[k] + b) * 1000).toISOString(),
        eventId: `bench-${b}-${j}`,
      };
    });
    return JSON.stringify({ query: RECORD, variables: { input } });
  });

  const databaseUrl = await freshDatabase('recoder_bench_record');
  const api = await startApi({ DATABASE_URL: databaseUrl, REDIS_URL: 'redis://127.0.0.1:6379/12' });
  try {
    let next = 0;
    for (const concurrency of [1, 2]) {
      const start = performance.now();
      let accepted = 0;
      const own = bodies.slice(next, next + batches);
      next += batches;
      let cursor = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (cursor < own.length) {
            const body = own[cursor++];
            const res = await fetch(`${api.url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
            const json = (await res.json()) as {
              data?: { recordInteractions: { accepted: number } };
              errors?: unknown;
            };
            if (!json.data) throw new Error(`recordInteractions failed: ${JSON.stringify(json.errors)}`);
            accepted += json.data.recordInteractions.accepted;
          }
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      emit({
        bench: 'record_interactions',
        batch_size: batchSize,
        batches,
        concurrency,
        events: accepted,
        seconds: +seconds.toFixed(2),
        events_per_s: Math.round(accepted / seconds),
      });
    }
  } finally {
    await api.stop();
  }
  return undefined;
});
