import { validateEnv } from './env';

describe(validateEnv.name, () => {
  it('works with no configuration at all', () => {
    const env = validateEnv({});
    expect(env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/recoder');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.PORT).toBe(3000);
    expect(env.JOBS_PORT).toBe(3001);
    expect(env.ADMIN_API_KEY).toBeUndefined();
  });

  it('coerces numbers from strings', () => {
    expect(validateEnv({ PORT: '8080' }).PORT).toBe(8080);
  });

  it('names the bad variable without echoing its value', () => {
    const secret = 'redis-password-XYZ';
    expect(() => validateEnv({ REDIS_URL: secret, PORT: 'abc' })).toThrow(/REDIS_URL.*PORT|PORT.*REDIS_URL/);
    try {
      validateEnv({ REDIS_URL: secret });
    } catch (e) {
      expect((e as Error).message).not.toContain(secret);
    }
  });

  it('takes a cluster as host:port pairs and a key prefix that cannot hold a hash tag, a separator or a glob', () => {
    expect(validateEnv({}).REDIS_KEY_PREFIX).toBe('recoder');
    expect(validateEnv({}).REDIS_CLUSTER_NODES).toBeUndefined();
    const env = validateEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b:7001', REDIS_KEY_PREFIX: 'shop-eu_1' });
    expect(env).toMatchObject({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b:7001', REDIS_KEY_PREFIX: 'shop-eu_1' });
    for (const nodes of ['10.0.0.1', '10.0.0.1:7000,', 'a:1 b:2']) {
      expect(() => validateEnv({ REDIS_CLUSTER_NODES: nodes })).toThrow(/REDIS_CLUSTER_NODES \(must be host:port/);
    }
    for (const prefix of ['{recoder}', 'a:b', 'rec*', 'x'.repeat(65)]) {
      expect(() => validateEnv({ REDIS_KEY_PREFIX: prefix })).toThrow(/REDIS_KEY_PREFIX/);
    }
  });

  it('indexes catalogues from 500,000 items unless told another size, or 0 for never', () => {
    expect(validateEnv({}).ANN_MIN_ITEMS).toBe(100_000);
    expect(validateEnv({ ANN_MIN_ITEMS: '0' }).ANN_MIN_ITEMS).toBe(0);
    expect(() => validateEnv({ ANN_MIN_ITEMS: '-1' })).toThrow(/ANN_MIN_ITEMS/);
  });

  it('rejects an unknown TFJS_BACKEND', () => {
    expect(() => validateEnv({ TFJS_BACKEND: 'webgl' })).toThrow(/TFJS_BACKEND/);
  });

  it('recounts popularity every 10 minutes unless told a cron expression or "off"', () => {
    expect(validateEnv({}).POPULARITY_CRON).toBe('*/10 * * * *');
    expect(validateEnv({ POPULARITY_CRON: 'off' }).POPULARITY_CRON).toBe('off');
    expect(validateEnv({ POPULARITY_CRON: '0 * * * *' }).POPULARITY_CRON).toBe('0 * * * *');
    expect(() => validateEnv({ POPULARITY_CRON: 'hourly' })).toThrow(/POPULARITY_CRON/);
  });
});
