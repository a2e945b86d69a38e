import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { importSynthetic } from '@app/ingest';
import { generateSynthetic } from '@app/synthetic';
import { CuttableProxy, gql, testPool, truncateStore } from '@app/testing';
import { createTestApiApp } from '../create-test-app';
import { TEST_DATABASE_URL } from '../test-env';

const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted duplicates } }`;
const CLIENTS = 4;
const BATCHES = 30;
const PER_BATCH = 40;

/** The API's (or an import's) Postgres connections cut while events are written; clients retry as a real one does. */
describe('the Postgres connection cut during ingest (faults)', () => {
  let proxy: CuttableProxy;
  let proxiedUrl: string;
  let api: NestFastifyApplication;
  let db: Pool;

  beforeAll(async () => {
    db = testPool(TEST_DATABASE_URL);
    await truncateStore(db);
    proxy = await CuttableProxy.start(Number(new URL(TEST_DATABASE_URL).port || 5432));
    const url = new URL(TEST_DATABASE_URL);
    url.port = String(proxy.port);
    proxiedUrl = url.toString();
    api = await createTestApiApp({ DATABASE_URL: proxiedUrl });
  });
  afterAll(async () => {
    await api.close();
    await proxy.close();
    await db.end();
  });

  /** Ends every connection of the API's own pool from the server side (57P01), as a failover or an operator would. */
  const terminateAppConnections = () =>
    db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'recoder' AND pid <> pg_backend_pid()`,
    );

  it('recordInteractions: every event with an eventId stored exactly once, the failures SERVICE_UNAVAILABLE', async () => {
    const codes = new Map<string, number>();
    let done = false;
    // a cut every 150-250 ms: alternately the TCP road (mid-statement, mid-COMMIT) and the server ending the sessions
    const cutter = (async () => {
      for (let round = 0; !done; round++) {
        await new Promise((r) => setTimeout(r, 150 + (round % 3) * 50));
        if (round % 2) {
          proxy.sever();
          await new Promise((r) => setTimeout(r, 30));
          proxy.restore();
        } else {
          await terminateAppConnections();
        }
      }
    })();
    const client = async (c: number) => {
      for (let b = 0; b < BATCHES; b++) {
        const input = Array.from({ length: PER_BATCH }, (_, k) => ({
          userId: `cut-u${(c * 7 + b * 3 + k) % 60}`,
          itemId: `cut-i${(b * PER_BATCH + k) % 90}`,
          type: 'view',
          eventId: `cut-${c}-${b}-${k}`,
        }));
        // as a client would: the same batch, the same eventIds, until an answer says it is stored
        for (let attempt = 0; ; attempt++) {
          if (attempt > 200) throw new Error(`batch ${c}/${b} never went through`);
          const res = await gql(api, RECORD, { input });
          if (!res.errors) {
            expect(res.data!.recordInteractions.accepted + res.data!.recordInteractions.duplicates).toBe(PER_BATCH);
            break;
          }
          const code = String(res.errors[0].extensions?.code);
          codes.set(code, (codes.get(code) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    } finally {
      done = true;
      await cutter;
    }
    // the cuts did hit requests, and each was told to call again, not that the server broke
    expect([...codes.keys()]).toEqual(['SERVICE_UNAVAILABLE']);
    expect(codes.get('SERVICE_UNAVAILABLE')).toBeGreaterThan(0);
    const stored = (
      await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids FROM interactions WHERE event_id LIKE 'cut-%'`,
      )
    ).rows[0];
    expect(stored).toEqual({ n: CLIENTS * BATCHES * PER_BATCH, ids: CLIENTS * BATCHES * PER_BATCH });
  }, 240_000);

  it('a bulk import cut while it merges leaves nothing; imported again, every row is stored once', async () => {
    const data = generateSynthetic({ users: 3000, items: 400, seed: 5, perUser: 30 });
    const before = (await db.query('SELECT count(*)::int AS n FROM interactions')).rows[0].n;
    let cut = false;
    const first = importSynthetic({ url: proxiedUrl }, data, (progress) => {
      if (progress.phase === 'merging' && !cut) {
        cut = true;
        proxy.sever();
      }
    });
    await expect(first).rejects.toThrow();
    proxy.restore();
    expect(cut).toBe(true);
    expect((await db.query('SELECT count(*)::int AS n FROM interactions')).rows[0].n).toBe(before);

    const again = await importSynthetic({ url: proxiedUrl }, data);
    expect(again.inserted).toBe(data.user.length);
    // and once more, as a client unsure whether its last try committed: all duplicates
    const twice = await importSynthetic({ url: proxiedUrl }, data);
    expect(twice).toMatchObject({ inserted: 0, duplicates: data.user.length });
    expect((await db.query('SELECT count(*)::int AS n FROM interactions')).rows[0].n).toBe(before + data.user.length);
  }, 120_000);
});
