import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RedisClient } from '@app/redis';
import { EmbeddingStoreRepository, metaKey, userKey, vectorBytes, versionPrefix } from '@app/embedding-store';
import { testRedis } from '@app/testing';
import { TEST_REDIS_URL } from './test-env';

const ROOT = join(__dirname, '..');

/** `npm run migrate:redis-keys`: exit code, one JSON line on stdout, the reason on stderr. */
function migrate(env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(
    process.execPath,
    ['-r', '@swc-node/register', join(ROOT, 'scripts/migrate-redis-keys.ts')],
    { cwd: ROOT, env: { ...process.env, REDIS_URL: TEST_REDIS_URL, ...env } },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

// a single-node deployment upgraded from key layout 1 (`recoder:v{n}:user:<id>`) to 2 (`…:user:{<id>}`)
describe('npm run migrate:redis-keys (e2e)', () => {
  const OLD = 9101;
  const NEW = 9102;
  let redis: RedisClient;
  let store: EmbeddingStoreRepository;
  const vec = (x: number) => Float32Array.from([x, -x, 0.5]);

  beforeAll(() => {
    redis = testRedis(TEST_REDIS_URL);
    store = new EmbeddingStoreRepository(redis);
  });
  beforeEach(() => Promise.all([store.deleteVersion(OLD), store.deleteVersion(NEW)]));
  afterAll(async () => {
    await Promise.all([store.deleteVersion(OLD), store.deleteVersion(NEW)]);
    redis.disconnect();
  });

  it("renames a layout-1 version's keys so the API reads them, leaves a layout-2 version alone, and runs again harmlessly", async () => {
    // written as the previous release did: ids without braces, no layout in the meta
    const v1 = versionPrefix(OLD);
    await redis.hset(metaKey(OLD), { dim: 3, itemDim: 3, users: 2, items: 1, trainedAt: '2026-01-01', modelHash: 'x' });
    await redis.hset(`${v1}user:u1`, 'vec', vectorBytes(vec(1)), 'stale', 'mark-1');
    await redis.hset(`${v1}user:a:{b}`, 'vec', vectorBytes(vec(2)));
    await redis.hset(`${v1}item:i1`, 'vec', vectorBytes(vec(3)));
    // the current layout, published by this release
    await store.writeVectors(NEW, 'user', { ids: ['u1'], dim: 3, vectors: vec(4) });
    await store.writeMeta(NEW, {
      ...{ dim: 3, itemDim: 3, users: 1, items: 0, trainedAt: '2026-01-02', modelHash: 'y' },
      ...{ topItems: null, similarItems: null },
    });
    expect(await store.readUser(OLD, 'u1')).toBeNull();

    const first = await migrate();
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ migrated: { [`v${OLD}`]: 3 } });

    const u1 = (await store.readUser(OLD, 'u1'))!;
    expect(Array.from(u1.vector)).toEqual(Array.from(vec(1)));
    expect(u1.staleMark).toBe('mark-1');
    expect(Array.from((await store.readUser(OLD, 'a:{b}'))!.vector)).toEqual(Array.from(vec(2)));
    expect((await store.readVectors(OLD, 'item', ['i1']))[0]).toEqual(vec(3));
    expect(await redis.exists(`${v1}user:u1`, `${v1}user:a:{b}`, `${v1}item:i1`)).toBe(0);
    expect(await redis.hget(metaKey(OLD), 'layout')).toBe('2');
    expect(Array.from((await store.readUser(NEW, 'u1'))!.vector)).toEqual(Array.from(vec(4)));
    expect(await redis.exists(userKey(NEW, 'u1'))).toBe(1);

    const again = await migrate();
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ migrated: {} });
    expect(Array.from((await store.readUser(OLD, 'u1'))!.vector)).toEqual(Array.from(vec(1)));
  });

  it('refuses to run against a cluster, saying why', async () => {
    const result = await migrate({ REDIS_CLUSTER_NODES: '127.0.0.1:7100' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/REDIS_CLUSTER_NODES is set: migrate on the single Redis/);
    expect(result.stdout).toBe('');
  });
});
