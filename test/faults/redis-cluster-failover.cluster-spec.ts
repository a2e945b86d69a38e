import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { activeKey, kindPattern, metaKey, userKey } from '@app/embedding-store';
import { keySlot, type RedisClient } from '@app/redis';
import { generateSynthetic, syntheticUserId } from '@app/synthetic';
import { gql, scanKeys } from '@app/testing';
import { TEST_REDIS_CLUSTER_NODES } from '../test-env';
import { TestStack } from '../test-stack';
import { trainToCompletion } from '../train-through-api';

const CLUSTER_SCRIPT = `${__dirname}/../../scripts/redis-cluster.sh`;
const CLUSTER_DIR = '/tmp/recoder-redis-cluster-7100';
const QUICK = { epochs: 4, embeddingDim: 16, hidden: [32], seed: 5, patience: 0, batchSize: 50 };
const RECS = `query R($u: ID!) { recommendations(userId: $u, limit: 5) { source modelVersion items { item { id } } } }`;
const USERS = 300;
/** One request every this many ms, whatever the answers take (a steady rate, not back to back). */
const REQUEST_INTERVAL_MS = 25;

interface ClusterNode {
  id: string;
  port: number;
  role: 'master' | 'slave';
  primaryId: string | null;
  failed: boolean;
  slots: [number, number][];
}

/** CLUSTER NODES as some live node sees it. */
async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const redis = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    const text = (await redis.call('CLUSTER', 'NODES')) as string;
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [id, address, flags, primary, , , , , ...slots] = line.split(' ');
        return {
          id,
          port: Number(address.split('@')[0].split(':')[1]),
          role: flags.includes('master') ? 'master' : 'slave',
          primaryId: primary === '-' ? null : primary,
          failed: flags.includes('fail'),
          slots: slots.filter((s) => !s.startsWith('[')).map((s) => s.split('-').map(Number) as [number, number]),
        };
      });
  } finally {
    redis.disconnect();
  }
}

const until = async (what: string, check: () => Promise<boolean>, seconds = 60) => {
  for (let i = 0; i < seconds * 10; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

// a primary of the cluster dies while recommendations are served at a steady rate; its replica takes over
describe('Redis Cluster failover during serving (fault)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  let redis: RedisClient;
  let killedPort: number | null = null;

  beforeAll(async () => {
    expect(TEST_REDIS_CLUSTER_NODES).toBeDefined();
    stack = await TestStack.start({ data: generateSynthetic({ users: USERS, items: 120, seed: 11, perUser: 15 }) });
    ({ api, redis } = stack);
  });
  afterAll(async () => {
    await stack.close();
    // the cluster as it was: the killed node back, as the replica of its successor
    if (killedPort !== null) execFileSync(CLUSTER_SCRIPT, ['start-node', String(killedPort)]);
    await until('the cluster healthy again', () => {
      execFileSync(CLUSTER_SCRIPT, ['status']);
      return Promise.resolve(true);
    });
  });

  it('answers every request, without an error, while a primary fails over; no key is lost', async () => {
    const { version } = await trainToCompletion(api, QUICK);
    const users = Array.from({ length: USERS }, (_, i) => syntheticUserId(i));
    // once the API has loaded the version, users are answered from their cached embeddings
    await until('the API serving the version', async () => {
      const { recommendations } = (await gql(api, RECS, { u: users[0] })).data!;
      return recommendations.source === 'EMBEDDING' && recommendations.modelVersion === version;
    });

    // the primary holding users[0]'s keys; its replica must have every write before it dies
    const nodes = await clusterNodes(7100 + Math.floor(Math.random() * 6));
    const slot = keySlot(userKey(version, users[0]));
    const victim = nodes.find((n) => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= (b ?? a)))!;
    const replica = nodes.find((n) => n.primaryId === victim.id)!;
    const direct = new Redis(victim.port);
    expect(Number(await direct.call('WAIT', '1', '5000'))).toBe(1);
    direct.disconnect();
    const keysBefore = {
      users: (await scanKeys(redis, kindPattern(version, 'user'))).length,
      items: (await scanKeys(redis, kindPattern(version, 'item'))).length,
    };
    const published = await redis.hmget(metaKey(version), 'users', 'items');
    expect(keysBefore).toEqual({ users: Number(published[0]), items: Number(published[1]) });
    expect(keysBefore.users).toBe(USERS);

    // a steady stream of requests over every user (a third of them on the victim's slots)
    const answers: { at: number; ms: number; source: string | null; error: string | null }[] = [];
    let serving = true;
    let n = 0;
    const inFlight = new Set<Promise<void>>();
    const loop = (async () => {
      while (serving) {
        const user = users[n++ % USERS];
        const at = Date.now();
        const p = gql(api, RECS, { u: user })
          .then((res) => {
            const error = res.errors?.length ? JSON.stringify(res.errors[0]) : null;
            answers.push({ at, ms: Date.now() - at, source: res.data?.recommendations?.source ?? null, error });
          })
          .catch((err: Error) => void answers.push({ at, ms: Date.now() - at, source: null, error: err.message }))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        await new Promise((r) => setTimeout(r, REQUEST_INTERVAL_MS));
      }
    })();

    await until('a second of answers before the fault', () => Promise.resolve(answers.length >= 20));
    const killedAt = Date.now();
    killedPort = victim.port;
    process.kill(Number(readFileSync(`${CLUSTER_DIR}/${victim.port}/redis.pid`, 'utf8').trim()), 'SIGKILL');
    await until('the replica to take over', async () => {
      const view = await clusterNodes(replica.port);
      return view.find((x) => x.id === replica.id)!.role === 'master';
    });
    const promotedAt = Date.now();
    // and then answers from the cache again, for users on the promoted node too
    await until('cached answers for the failed-over users', () => {
      const recent = answers.filter((a) => a.at > Date.now() - 1000);
      return Promise.resolve(recent.length > 10 && recent.every((a) => a.source === 'EMBEDDING'));
    });
    serving = false;
    await loop;
    await Promise.all(inFlight);

    const during = answers.filter((a) => a.at >= killedAt);
    const failed = answers.filter((a) => a.error !== null);
    process.stdout.write(
      `${JSON.stringify({
        requests: answers.length,
        failed: failed.length,
        promoted_after_ms: promotedAt - killedAt,
        during_fault: during.length,
        answered_by_fold_in: during.filter((a) => a.source === 'FOLD_IN').length,
        slowest_ms: Math.max(...answers.map((a) => a.ms)),
      })}\n`,
    );
    // no request failed: a command on the dead primary times out or is refused, the answer comes from a fold-in
    expect(failed).toEqual([]);
    expect(answers.length).toBeGreaterThan(40);
    expect(answers.every((a) => a.source === 'EMBEDDING' || a.source === 'FOLD_IN')).toBe(true);

    // no key lost: the replica had every key of the version
    expect((await scanKeys(redis, kindPattern(version, 'user'))).length).toBe(keysBefore.users);
    expect((await scanKeys(redis, kindPattern(version, 'item'))).length).toBe(keysBefore.items);
    expect(await redis.exists(metaKey(version))).toBe(1);
    expect(Number(await redis.get(activeKey()))).toBe(version);
    expect(await redis.hexists(userKey(version, users[0]), 'vec')).toBe(1);
  });
});
