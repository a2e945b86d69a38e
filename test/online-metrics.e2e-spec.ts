import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateSynthetic } from '@app/synthetic';
import { firstErrorCode, gql } from '@app/testing';
import { admin } from './test-env';
import { createTestApiApp } from './create-test-app';
import { TestStack } from './test-stack';
import { OnlineMetricsBuffer } from '../apps/api/src/feedback/online-metrics-buffer';

const RECS = `query R($u: ID!, $preview: Boolean) {
  recommendations(userId: $u, limit: 5, preview: $preview) { recommendationId modelVersion items { item { id } } } }`;
const REPORT = `mutation I($rid: String!, $items: [ID!]!) { reportImpressions(recommendationId: $rid, itemIds: $items) { accepted } }`;
const RECORD = `mutation R($input: [InteractionInput!]!) { recordInteractions(input: $input) { accepted duplicates } }`;
const SET_TYPE = `mutation T($input: FeedbackTypeInput!) { setFeedbackType(input: $input) { type } }`;
const ONLINE = `query O($v: Int!, $from: DateTime, $to: DateTime, $bucket: TimeBucket) {
  onlineMetrics(version: $v, from: $from, to: $to, bucket: $bucket) {
    from to
    buckets { start answers impressions positives }
    total { answers impressions positives positivesByType { type count } conversions ctr conversionRate } } }`;

type Totals = {
  answers: number;
  impressions: number;
  positives: number;
  positivesByType: { type: string; count: number }[];
  conversions: number;
  ctr: number | null;
  conversionRate: number | null;
};

describe('online metrics: answers, impressions and attributed events per version (e2e)', () => {
  let stack: TestStack;
  let api: NestFastifyApplication;
  const data = generateSynthetic({ users: 40, items: 30, seed: 9, perUser: 6, clusters: 3 });

  beforeAll(async () => {
    process.env.ONLINE_METRICS_FLUSH_MS = '50';
    stack = await TestStack.start({ data, worker: false });
    api = stack.api;
  });
  afterAll(async () => {
    await stack.close();
    delete process.env.ONLINE_METRICS_FLUSH_MS;
  });

  async function answer(user: string, preview = false): Promise<{ rid: string | null; ids: string[] }> {
    const res = await gql(api, RECS, { u: user, preview });
    expect(res.errors).toBeUndefined();
    const r = res.data!.recommendations as { recommendationId: string | null; items: { item: { id: string } }[] };
    return { rid: r.recommendationId, ids: r.items.map((i) => i.item.id) };
  }

  async function totals(version = 0): Promise<Totals> {
    // a day ahead: events may be dated up to a day ahead of now
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const res = await gql(api, ONLINE, { v: version, to, bucket: 'HOUR' }, admin);
    expect(res.errors).toBeUndefined();
    return res.data!.onlineMetrics.total as Totals;
  }

  /** Until the stored totals satisfy `done` (the buffer writes every ONLINE_METRICS_FLUSH_MS). */
  async function totalsWhen(done: (t: Totals) => boolean): Promise<Totals> {
    let last = await totals();
    for (let i = 0; i < 400 && !done(last); i++) {
      await new Promise((r) => setTimeout(r, 50));
      last = await totals();
    }
    return last;
  }

  it('counts answers but not previews, impressions per answer, and attributes POSITIVE events by id or by an impression within the window', async () => {
    expect((await gql(api, SET_TYPE, { input: { type: 'hide', role: 'NEGATIVE' } }, admin)).errors).toBeUndefined();
    const before = await totals();
    const given = await answer('u1');
    await answer('u1', true);
    await answer('u1', true);
    expect((await gql(api, REPORT, { rid: given.rid, items: given.ids.slice(0, 3) })).errors).toBeUndefined();
    const at = new Date().toISOString();
    const events = [
      // names its answer, and the item was in it: attributed
      { userId: 'u1', itemId: given.ids[0], type: 'click', recommendationId: given.rid, eventId: 'e1', occurredAt: at },
      // names its answer, but the item was not in it: not attributed
      {
        userId: 'u1',
        itemId: 'i-elsewhere',
        type: 'click',
        recommendationId: given.rid,
        eventId: 'e2',
        occurredAt: at,
      },
      // no id, but the item was shown to the user just before: attributed
      { userId: 'u1', itemId: given.ids[1], type: 'purchase', eventId: 'e3', occurredAt: at },
      // no id, and an item never shown to them: not attributed
      { userId: 'u1', itemId: given.ids[4], type: 'click', eventId: 'e4', occurredAt: at },
      // shown, but not POSITIVE
      { userId: 'u1', itemId: given.ids[2], type: 'hide', eventId: 'e5', occurredAt: at },
    ];
    const recorded = await gql(api, RECORD, { input: events });
    expect(recorded.errors).toBeUndefined();
    expect(recorded.data!.recordInteractions.accepted).toBe(5);
    // the same batch again (a client's retry) is stored once, and counted once
    expect((await gql(api, RECORD, { input: events })).data!.recordInteractions.duplicates).toBe(5);

    const after = await totalsWhen(
      (t) => t.positives >= before.positives + 2 && t.impressions >= before.impressions + 3,
    );
    expect(after.answers - before.answers).toBe(1);
    expect(after.impressions - before.impressions).toBe(3);
    expect(after.positives - before.positives).toBe(2);
    const byType = new Map(after.positivesByType.map((p) => [p.type, p.count]));
    expect(byType.get('click')).toBe(1);
    expect(byType.get('purchase')).toBe(1);
    expect(byType.has('hide')).toBe(false);
    // no ONLINE_CONVERSION_TYPES: every attributed POSITIVE event converts
    expect(after.conversions).toBe(after.positives);
    expect(after.ctr).toBeCloseTo(after.positives / after.impressions, 10);
    expect(after.conversionRate).toBeCloseTo(after.conversions / after.answers, 10);

    // Prometheus counters by version
    const metrics = await api.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/recoder_online_answers_total\{version="0"\} [1-9]/);
    expect(metrics.body).toMatch(/recoder_online_impressions_total\{version="0"\} [1-9]/);
    expect(metrics.body).toMatch(/recoder_online_attributed_events_total\{version="0",type="purchase"\} [1-9]/);
  });

  it('an impression outside the window does not attribute a later event', async () => {
    const given = await answer('u2');
    expect((await gql(api, REPORT, { rid: given.rid, items: [given.ids[0]] })).errors).toBeUndefined();
    const impressed = await totalsWhen((t) => t.impressions > 0);
    // two hours later: past the default 60-minute window
    const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const res = await gql(api, RECORD, {
      input: [{ userId: 'u2', itemId: given.ids[0], type: 'click', occurredAt: later }],
    });
    expect(res.data!.recordInteractions.accepted).toBe(1);
    // a marker event that is attributed, so the wait ends once this batch's counts are written
    const marker = await answer('u3');
    await gql(api, RECORD, {
      input: [{ userId: 'u3', itemId: marker.ids[0], type: 'click', recommendationId: marker.rid }],
    });
    const after = await totalsWhen((t) => t.positives > impressed.positives);
    expect(after.positives - impressed.positives).toBe(1);
  });

  it('an IMPRESSION event counts as shown by the version answering its user, and attributes a later click without an id', async () => {
    expect((await gql(api, SET_TYPE, { input: { type: 'shown', role: 'IMPRESSION' } }, admin)).errors).toBeUndefined();
    const before = await totals();
    const shown = await gql(api, RECORD, { input: [{ userId: 'u4', itemId: 'i7', type: 'shown' }] });
    expect(shown.data!.recordInteractions.accepted).toBe(1);
    const clicked = await gql(api, RECORD, {
      input: [{ userId: 'u4', itemId: 'i7', type: 'click', occurredAt: new Date(Date.now() + 1000).toISOString() }],
    });
    expect(clicked.data!.recordInteractions.accepted).toBe(1);
    const after = await totalsWhen((t) => t.positives > before.positives && t.impressions > before.impressions);
    expect(after.impressions - before.impressions).toBe(1);
    expect(after.positives - before.positives).toBe(1);
  });

  it('buckets by hour and day sum alike; bad ranges fail with BAD_USER_INPUT', async () => {
    const hours = await gql(api, ONLINE, { v: 0, bucket: 'HOUR' }, admin);
    const days = await gql(api, ONLINE, { v: 0, bucket: 'DAY' }, admin);
    const sum = (buckets: { answers: number }[]) => buckets.reduce((a, b) => a + b.answers, 0);
    expect(sum(hours.data!.onlineMetrics.buckets)).toBeGreaterThan(0);
    expect(sum(days.data!.onlineMetrics.buckets)).toBe(sum(hours.data!.onlineMetrics.buckets));
    const backwards = await gql(api, ONLINE, { v: 0, from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, admin);
    expect(firstErrorCode(backwards)).toBe('BAD_USER_INPUT');
    const tooLong = await gql(
      api,
      ONLINE,
      { v: 0, from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', bucket: 'HOUR' },
      admin,
    );
    expect(firstErrorCode(tooLong)).toBe('BAD_USER_INPUT');
    expect(firstErrorCode(await gql(api, ONLINE, { v: -1 }, admin))).toBe('BAD_USER_INPUT');
    // admin only
    expect(firstErrorCode(await gql(api, ONLINE, { v: 0 }))).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
  });

  it('a clean stop writes the counts still held', async () => {
    const other = await createTestApiApp({ ONLINE_METRICS_FLUSH_MS: '600000' });
    const stored = async () =>
      Number(
        (await stack.db.query(`SELECT coalesce(sum(count), 0)::int AS n FROM online_metrics WHERE measure = 'answers'`))
          .rows[0].n,
      );
    // the first process's counts written, so only the second one's are held
    const first = api.get(OnlineMetricsBuffer, { strict: false });
    await first.flush();
    const before = await stored();
    try {
      expect((await gql(other, RECS, { u: 'u9', preview: false })).errors).toBeUndefined();
      expect(await stored()).toBe(before);
    } finally {
      await other.close();
      process.env.ONLINE_METRICS_FLUSH_MS = '50';
    }
    expect(await stored()).toBe(before + 1);
  });
});
