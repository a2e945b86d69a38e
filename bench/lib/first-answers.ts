import Redis from 'ioredis';
import { feedbackKey } from '@app/embedding-store';
import { syntheticUserId } from '@app/synthetic';
import { cpuSeconds } from './api-process';

/** Requests in flight while users are warmed. */
const WARM_CONNECTIONS = 16;

/**
 * Each of the first `pool` synthetic users answered once, their cached feedback state deleted
 * first: a user's first answer reads that state from Postgres (FeedbackStates) and caches it in
 * Redis, where a returning user's answer finds it. Returns the first answers' rate and the API's
 * CPU per answer (not Postgres's); the users are warm after.
 */
export async function firstAnswers(
  api: { url: string; pid: number },
  redisUrl: string,
  pool: number,
): Promise<Record<string, number | string>> {
  const redis = new Redis(redisUrl);
  try {
    for (let start = 0; start < pool; start += 10_000) {
      const count = Math.min(10_000, pool - start);
      await redis.del(...Array.from({ length: count }, (_, n) => feedbackKey(syntheticUserId(start + n))));
    }
  } finally {
    redis.disconnect();
  }
  const started = performance.now();
  const cpu = cpuSeconds(api.pid);
  await warmUsers(`${api.url}/graphql`, pool);
  const seconds = (performance.now() - started) / 1000;
  return {
    query: 'recommendations_first_answer',
    connections: WARM_CONNECTIONS,
    asked: pool,
    seconds: +seconds.toFixed(1),
    req_per_s: Math.round(pool / seconds),
    cpu_ms_per_request: +((1000 * (cpuSeconds(api.pid) - cpu)) / pool).toFixed(3),
  };
}

/** Each of the first `pool` synthetic users asked for recommendations once. */
export async function warmUsers(url: string, pool: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: WARM_CONNECTIONS }, async () => {
      while (next < pool) {
        const u = syntheticUserId(next++);
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: 'query R($u: ID!) { recommendations(userId: $u, limit: 1) { source } }',
            variables: { u },
          }),
        });
        if (!res.ok) throw new Error(`warming ${u} failed: HTTP ${res.status}`);
      }
    }),
  );
}
