import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { API_KEYS_CHANGED_CHANNEL, ApiScope, hashApiKey, isScope, SCOPES } from '@app/api-keys';
import { EnvVars } from '@app/config';
import { ApiKeyRepository } from '@app/database';
import { REDIS } from '@app/redis';
import type { Caller } from './caller';

/** The bootstrap key (ADMIN_API_KEY) has every scope and no row. */
export const BOOTSTRAP_KEY_NAME = 'ADMIN_API_KEY';
/** Last-use times are written at most this often, in one statement, never per request. */
const LAST_USED_FLUSH_MS = 30_000;

interface Grant {
  /** Null for the bootstrap key, which has no row. */
  id: number | null;
  caller: Extract<Caller, { kind: 'key' }>;
}

/**
 * Every usable key of this process, by hash: a request's check is one SHA-256 and one map lookup,
 * never Postgres. Reloaded when another process announces a change (Redis pub/sub) and every
 * API_KEY_CACHE_SECONDS in any case, so a missed message keeps a revoked key alive that long at most.
 */
@Injectable()
export class ApiKeyCache implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyCache.name);
  private grants: Map<string, Grant>;
  /** Key id -> when it was last used, since the last flush. */
  private lastUse = new Map<number, Date>();
  private subscriber: Redis | null = null;
  private timers: NodeJS.Timeout[] = [];
  private loading: Promise<void> | null = null;

  constructor(
    private readonly keys: ApiKeyRepository,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly env: EnvVars,
  ) {
    this.grants = this.withBootstrapKey(new Map());
  }

  async onModuleInit(): Promise<void> {
    // a Postgres that is down at start leaves the bootstrap key working; the timer retries
    await this.reload().catch((err) => this.logger.warn(`API keys not loaded: ${(err as Error).message}`));
    // a dedicated connection: a subscribed client can do nothing else
    this.subscriber = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', () => void this.reload().catch((err) => this.logger.warn(`API key reload failed: ${(err as Error).message}`)));
    await this.subscriber.subscribe(API_KEYS_CHANGED_CHANNEL).catch(() => undefined);
    this.timers = [
      setInterval(() => void this.reload().catch(() => undefined), this.env.API_KEY_CACHE_SECONDS * 1000),
      setInterval(() => void this.flushLastUse().catch(() => undefined), LAST_USED_FLUSH_MS),
    ];
    for (const timer of this.timers) timer.unref();
  }

  /** Before the Postgres pool closes, so the last batch of use times is written. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.subscriber?.disconnect();
    await this.flushLastUse().catch((err) => this.logger.warn(`last-use times not written: ${(err as Error).message}`));
  }

  /** The caller a presented key makes: a key's grant, or invalid (unknown or revoked). */
  callerOfKey(key: string): Caller {
    return this.callerOfHash(hashApiKey(key));
  }

  callerOfHash(keyHash: string): Caller {
    const grant = this.grants.get(keyHash);
    if (!grant) return { kind: 'invalid', reason: 'API key not recognised (unknown or revoked)' };
    if (grant.id !== null) this.lastUse.set(grant.id, new Date());
    return grant.caller;
  }

  /** Re-reads the keys now; concurrent calls share one read. */
  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  private async load(): Promise<void> {
    const grants = new Map<string, Grant>();
    for (const row of await this.keys.active()) {
      grants.set(row.keyHash, { id: row.id, caller: { kind: 'key', name: row.name, scopes: new Set(row.scopes.filter(isScope)) } });
    }
    this.grants = this.withBootstrapKey(grants);
  }

  private withBootstrapKey(grants: Map<string, Grant>): Map<string, Grant> {
    if (this.env.ADMIN_API_KEY) {
      const scopes = new Set<ApiScope>(SCOPES);
      grants.set(hashApiKey(this.env.ADMIN_API_KEY), { id: null, caller: { kind: 'key', name: BOOTSTRAP_KEY_NAME, scopes } });
    }
    return grants;
  }

  /** Writes the batch of last-use times; a failed write is retried with the next batch. */
  async flushLastUse(): Promise<void> {
    if (this.lastUse.size === 0) return;
    const batch = this.lastUse;
    this.lastUse = new Map();
    try {
      await this.keys.recordUse(batch);
    } catch (err) {
      for (const [id, at] of batch) if (!this.lastUse.has(id)) this.lastUse.set(id, at);
      throw err;
    }
  }
}
