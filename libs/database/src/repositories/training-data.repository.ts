import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { FeedbackTypeRule, InputSettings, inputValue, NO_DECAY } from '@app/feedback';
import { DataSnapshot } from '../entities';
import { FEEDBACK_RULES_SQL, RulesRow, toRules } from './feedback-type.repository';
import { currentSnapshot, inReadSnapshot } from './read-snapshot';

/**
 * The model's input: every event that is one (POSITIVE under the rules of the read's snapshot,
 * within the retention window), with its value, as parallel typed arrays of dense indexes: 12
 * bytes a row, no object per row.
 */
export interface TrainingData {
  user: Int32Array;
  item: Int32Array;
  weight: Float32Array;
  /** External id per dense user / item index. */
  userIds: string[];
  itemIds: string[];
  /** Newest occurred_at of any event read, input or not: the model's data watermark. */
  watermark: Date | null;
  /** Events read, input or not. */
  events: number;
  /** The rules revision the roles were decided by (read in the same snapshot as the events). */
  rulesRevision: number;
  /**
   * The read's snapshot (pg_current_snapshot() as text): which transactions it saw, so a publish
   * can tell the erasures it predates (ErasureRepository.erasedSince).
   */
  snapshot: string;
  /** The same snapshot as the committed interactions it saw (any recorded after are not in the model). */
  dataSnapshot: DataSnapshot;
}

const XID_SPACE = 2n ** 32n;

// COPY BINARY: 11-byte signature, int32 flags, int32 extension length
const HEADER_BYTES = 19;
// int16 field count, then (int32 length + value) for user_id int4, item_id int4, weight float4, occurred_at int8, type's rule id int4
const TUPLE_FIELDS = 5;
const TUPLE_BYTES = 2 + 8 + 8 + 8 + 12 + 8;
// timestamptz counts microseconds from 2000-01-01
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

@Injectable()
export class TrainingDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Streams the interactions through COPY ... TO STDOUT (BINARY) inside one REPEATABLE READ
   * snapshot, so the count, the rows and the rules agree, keeping the model's input: each event's
   * role and value decided by its type's rule (libs/feedback's inputValue, as fold-ins decide them),
   * aged from the snapshot's time under `settings`.
   */
  async loadAll(
    settings: InputSettings = NO_DECAY,
    onProgress?: (rows: number, total: number) => void,
  ): Promise<TrainingData> {
    // before the snapshot: a transaction it sees in flight was open then, or began after
    const openSince = await this.oldestOpenTransaction();
    const { raw, users, items, total, snapshot, dataSnapshot, rulesRevision } = await inReadSnapshot(
      this.db,
      async (client) => {
        const snapshot = await currentSnapshot(client);
        const total = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM interactions')).rows[0].n);
        const dataSnapshot = { ...(await this.snapshotOf(client)), openSince };
        const { rules, stored } = toRules((await client.query<RulesRow>(FEEDBACK_RULES_SQL)).rows);
        const byId: (FeedbackTypeRule | undefined)[] = [];
        for (const rule of stored) byId[rule.id] = rule;
        const at = Date.parse(dataSnapshot.at);
        const value = (rule: number, weight: number, occurredMs: number) =>
          inputValue(byId[rule], weight, occurredMs, at, settings);
        const raw = await this.copyInteractions(client, total, value, onProgress);
        const users = await this.denseIds(client, 'users', raw.userKey);
        const items = await this.denseIds(client, 'items', raw.itemKey);
        return { raw, users, items, total, snapshot, dataSnapshot, rulesRevision: rules.revision };
      },
    );
    for (let k = 0; k < raw.userKey.length; k++) {
      raw.userKey[k] = users.dense[raw.userKey[k]];
      raw.itemKey[k] = items.dense[raw.itemKey[k]];
    }
    return {
      user: raw.userKey,
      item: raw.itemKey,
      weight: raw.weight,
      userIds: users.ids,
      itemIds: items.ids,
      watermark: raw.watermark,
      events: total,
      rulesRevision,
      snapshot,
      dataSnapshot,
    };
  }

  /**
   * The start of the oldest transaction open now (a bulk import may have begun minutes ago), or now.
   * pg_stat_activity shows other roles' transaction starts only to a role with pg_read_all_stats:
   * the app's own role is what writes interactions.
   */
  private async oldestOpenTransaction(): Promise<string> {
    const [row] = await this.db.query<{ since: Date }[]>(
      `SELECT least(clock_timestamp(), min(xact_start)) AS since FROM pg_stat_activity WHERE xact_start IS NOT NULL`,
    );
    return row.since.toISOString();
  }

  /** The transaction's snapshot (fixed by its first statement), its ids cut to 32 bits as a row's xmin is. */
  private async snapshotOf(client: PoolClient): Promise<DataSnapshot> {
    const { rows } = await client.query<{ at: Date; xmax: string; xip: string[] }>(
      `SELECT now() AS at, pg_snapshot_xmax(pg_current_snapshot())::text AS xmax,
              array(SELECT pg_snapshot_xip(pg_current_snapshot())::text) AS xip`,
    );
    const xid32 = (xid8: string) => Number(BigInt(xid8) % XID_SPACE);
    return { at: rows[0].at.toISOString(), xmax: xid32(rows[0].xmax), inFlight: rows[0].xip.map(xid32) };
  }

  /** The rows that are input (`value` not null), with their values; `value` gets the type's rule id (0: none). */
  private async copyInteractions(
    client: PoolClient,
    total: number,
    value: (rule: number, weight: number, occurredMs: number) => number | null,
    onProgress?: (rows: number, total: number) => void,
  ) {
    const userKey = new Int32Array(total);
    const itemKey = new Int32Array(total);
    const weight = new Float32Array(total);
    let newestUs = -Infinity;
    let rows = 0;
    let kept = 0;
    let skip = HEADER_BYTES;
    let carry: Buffer | null = null;
    const stream = client.query(
      copyTo(
        `COPY (SELECT x.user_id, x.item_id, x.weight, x.occurred_at, COALESCE(f.id, 0)
               FROM interactions x LEFT JOIN feedback_types f ON f.type = x.type) TO STDOUT (FORMAT binary)`,
      ),
    );
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      let at = Math.min(skip, buf.length);
      skip -= at;
      for (; at + TUPLE_BYTES <= buf.length; at += TUPLE_BYTES) {
        if (buf.readInt16BE(at) !== TUPLE_FIELDS) break; // -1: the trailer
        if (rows === total) throw new Error('more rows than counted: the snapshot changed under the COPY');
        rows++;
        const us = buf.readInt32BE(at + 30) * 4294967296 + buf.readUInt32BE(at + 34);
        if (us > newestUs) newestUs = us;
        const v = value(buf.readInt32BE(at + 42), buf.readFloatBE(at + 22), PG_EPOCH_MS + us / 1000);
        if (v === null) continue;
        userKey[kept] = buf.readInt32BE(at + 6);
        itemKey[kept] = buf.readInt32BE(at + 14);
        weight[kept] = v;
        kept++;
      }
      carry = at < buf.length ? buf.subarray(at) : null;
      if (carry && carry.length >= 2 && carry.readInt16BE(0) === -1) carry = null;
      onProgress?.(rows, total);
      buf = Buffer.alloc(0);
    }
    if (rows !== total) throw new Error(`expected ${total} interactions, read ${rows}`);
    const watermark = rows ? new Date(PG_EPOCH_MS + Math.floor(newestUs / 1000)) : null;
    // views of the kept prefix: the rest of the buffers is not worth a copy
    return {
      userKey: userKey.subarray(0, kept),
      itemKey: itemKey.subarray(0, kept),
      weight: weight.subarray(0, kept),
      watermark,
    };
  }

  /** Dense indexes (ascending internal id) for the keys that occur, and their external ids. */
  private async denseIds(client: PoolClient, table: 'users' | 'items', keys: Int32Array) {
    let max = 0;
    for (const k of keys) if (k > max) max = k;
    const dense = new Int32Array(max + 1).fill(-1);
    for (const k of keys) dense[k] = 0;
    let next = 0;
    for (let k = 0; k <= max; k++) if (dense[k] === 0) dense[k] = next++;
    const ids = new Array<string>(next);
    // only ids that occur: a user without interactions has no row in the model
    const { rows } = await client.query(`SELECT id, external_id FROM ${table} WHERE id <= $1`, [max]);
    for (const row of rows as Array<{ id: number; external_id: string }>) {
      if (dense[row.id] >= 0) ids[dense[row.id]] = row.external_id;
    }
    return { dense, ids };
  }
}
