import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { apiKeysChangedChannel, ApiScope, hashApiKey, isScope, SCOPES } from '@app/api-keys';
import { EnvVars } from '@app/config';
import { ApiKeyRepository } from '@app/database';
import { REDIS, RedisClient, subscriberOf } from '@app/redis';
import type { Caller } from './caller';

/** The bootstrap key (ADMIN_API_KEY) has every scope and no row. */
export const BOOTSTRAP_KEY_NAME = 'ADMIN_API_KEY';
/** Last-use times are written at most this often, in one statement, never per request. */
const LAST_USED_FLUSH_MS = 30_000;
/**
 * Presented keys whose hash this process remembers until the next reload. SHA-256 per request cost
 * `recommendations` 5.6% of its cached-path rate (bench:serve --keys: keyed/open 0.944); a key this
 * process already checked is one map lookup. Bounded, so random keys cannot grow it without end.
 */
const REMEMBERED_KEYS = 10_000;

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
  /** Presented key -> its grant (or undefined: unknown), until the grants are reloaded. */
  private byPresentedKey = new Map<string, Grant | undefined>();
  /** Key id -> when it was last used (epoch ms: no Date per request), since the last flush. */
  private lastUse = new Map<number, number>();
  private subscriber: RedisClient | null = null;
  private timers: NodeJS.Timeout[] = [];
  private loading: Promise<void> | null = null;

  constructor(
    private readonly keys: ApiKeyRepository,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly env: EnvVars,
  ) {
    this.grants = this.withBootstrapKey(new Map());
  }

  async onModuleInit(): Promise<void> {
    // a Postgres that is down at start leaves the bootstrap key working; the timer retries
    await this.reload().catch((err) => this.logger.warn(`API keys not loaded: ${(err as Error).message}`));
    // a dedicated connection: a subscribed client can do nothing else
    this.subscriber = subscriberOf(this.redis);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on(
      'message',
      () => void this.reload().catch((err) => this.logger.warn(`API key reload failed: ${(err as Error).message}`)),
    );
    await this.subscriber.subscribe(apiKeysChangedChannel()).catch(() => undefined);
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
    let grant = this.byPresentedKey.get(key);
    if (grant === undefined && !this.byPresentedKey.has(key)) {
      grant = this.grants.get(hashApiKey(key));
      if (this.byPresentedKey.size >= REMEMBERED_KEYS) this.byPresentedKey.clear();
      this.byPresentedKey.set(key, grant);
    }
    return this.callerOf(grant);
  }

  callerOfHash(keyHash: string): Caller {
    return this.callerOf(this.grants.get(keyHash));
  }

  private callerOf(grant: Grant | undefined): Caller {
    if (!grant) return { kind: 'invalid', reason: 'API key not recognised (unknown or revoked)' };
    if (grant.id !== null) this.lastUse.set(grant.id, Date.now());
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
      grants.set(row.keyHash, {
        id: row.id,
        caller: { kind: 'key', name: row.name, scopes: new Set(row.scopes.filter(isScope)) },
      });
    }
    this.grants = this.withBootstrapKey(grants);
    this.byPresentedKey = new Map();
  }

  private withBootstrapKey(grants: Map<string, Grant>): Map<string, Grant> {
    if (this.env.ADMIN_API_KEY) {
      const scopes = new Set<ApiScope>(SCOPES);
      grants.set(hashApiKey(this.env.ADMIN_API_KEY), {
        id: null,
        caller: { kind: 'key', name: BOOTSTRAP_KEY_NAME, scopes },
      });
    }
    return grants;
  }

  /** Writes the batch of last-use times; a failed write is retried with the next batch. */
  async flushLastUse(): Promise<void> {
    if (this.lastUse.size === 0) return;
    const batch = this.lastUse;
    this.lastUse = new Map();
    try {
      await this.keys.recordUse(new Map([...batch].map(([id, at]) => [id, new Date(at)])));
    } catch (err) {
      for (const [id, at] of batch) if (!this.lastUse.has(id)) this.lastUse.set(id, at);
      throw err;
    }
  }
}
